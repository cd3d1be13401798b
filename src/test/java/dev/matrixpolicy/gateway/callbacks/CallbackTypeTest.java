package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** A plain function implements any callback's interface, as the modules that pick their callbacks at startup need. */
class CallbackTypeTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyCallbackImplementedByAFunctionPassesTheArgumentsAndTheAnswerThrough(String path, String body, int status,
                                                                                 String expected) {
        CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(path)).findFirst().orElseThrow();

        JsonNode answer = JSON.readTree(expected);
        assertCallsTheFunction(type, (ObjectNode) JSON.readTree(body), status == 200 ? answer.get("result") : answer);
    }

    @Test
    void anInterfaceWhoseMethodTakesNoArgumentsCannotBeImplementedByAFunction() {
        CallbackType<Runnable, Object, Optional<String>> notACallback = new CallbackType<>(Category.SPAM_CHECKER,
                "not_a_callback", Runnable.class, (module, args) -> Optional.empty(), json -> json,
                ResultTypes.OPTIONAL_STRING, Rules.noneFallsThrough());

        assertThatThrownBy(() -> notACallback.fromFunction(args -> Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Runnable");
    }

    /** The function is asked with the arguments, and its answer (read from {@code answerJson}) is the callback's. */
    private static <M, A, R> void assertCallsTheFunction(CallbackType<M, A, R> type, ObjectNode body, JsonNode answerJson) {
        A args = type.reader().apply(JsonArgs.of(body));
        R answer = type.resultType().fromJson(answerJson);
        List<A> seen = new ArrayList<>();

        M module = type.fromFunction(asked -> {
            seen.add(asked);
            return answer;
        });

        assertThat(module).isInstanceOf(type.moduleInterface());
        assertThat(type.call().apply(module, args)).isEqualTo(answer);
        assertThat(seen).containsExactly(args);
    }
}
