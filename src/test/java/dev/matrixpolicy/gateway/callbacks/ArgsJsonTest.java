package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.matrix.EventJson;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Typed arguments written back to JSON read as the same arguments, for every callback, as a tree or as bytes. */
class ArgsJsonTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void writtenArgumentsReadBackAsTheSameArguments(String path, String body, int status, String expected) {
        CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(path)).findFirst().orElseThrow();

        assertRoundTrip(type, (ObjectNode) JSON.readTree(body));
    }

    private static <A> void assertRoundTrip(CallbackType<?, A, ?> type, ObjectNode body) {
        A args = type.reader().apply(JsonArgs.of(body));

        ObjectNode written = ArgsJson.write(args);

        assertThat(type.reader().apply(JsonArgs.of(written))).isEqualTo(args);
        assertThat(ArgsJson.bytes(args)).as("the same JSON, written without a tree on the way").isEqualTo(EventJson.MAPPER.writeValueAsBytes(written));
    }
}
