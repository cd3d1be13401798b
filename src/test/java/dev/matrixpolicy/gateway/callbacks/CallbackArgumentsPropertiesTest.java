package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.support.CallbackRequests;
import dev.matrixpolicy.gateway.support.Gen;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Whatever JSON object arrives, a callback's reader gives its typed arguments or a
 * {@link BadArgumentException} naming the field (400 M_MISSING_PARAM or M_INVALID_PARAM), never
 * another exception; and so does every accessor of {@link JsonArgs}. Inputs are the valid sample
 * of every callback ({@link CallbackRequests}) changed at any depth, and arbitrary objects.
 */
class CallbackArgumentsPropertiesTest {
    private static final int TRIES = 300;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void changedValidBodiesAreReadOrRefusedAsBadArguments(String path, String body, int status, String expected) {
        CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(path)).findFirst().orElseThrow();
        ObjectNode valid = Gen.parse(body);

        Gen.forAll(path.hashCode(), TRIES, gen -> gen.mutate(valid), changed -> assertReadOrBadArgument(type, changed));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void arbitraryObjectsAreReadOrRefusedAsBadArguments(String path, String body, int status, String expected) {
        CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(path)).findFirst().orElseThrow();
        List<String> fields = List.copyOf(Gen.parse(body).propertyNames());

        Gen.forAll(~path.hashCode(), TRIES, gen -> {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            fields.forEach(field -> {
                if (gen.chance(0.8)) {
                    object.set(field, gen.json(3));
                }
            });
            return object;
        }, object -> assertReadOrBadArgument(type, object));
    }

    @Test
    void everyCallbackHasASampleToChange() {
        assertThat(CallbackRequests.everyCallback().map(arguments -> arguments.get()[0]))
                .containsExactlyInAnyOrderElementsOf(Callbacks.ALL.stream().map(CallbackType::path).toList());
    }

    @Test
    void everyAccessorReadsOrRefusesAsABadArgument() {
        List<Function<JsonArgs, Object>> accessors = List.of(
                args -> args.string("f"), args -> args.optionalString("f"), args -> args.bool("f"), args -> args.bool("f", true),
                args -> args.integer("f"), args -> args.oneOf("f", List.of("public", "private")), args -> args.userId("f"),
                args -> args.optionalUserId("f"), args -> args.roomId("f"), args -> args.optionalRoomId("f"), args -> args.requestedRoomId("f"),
                args -> args.roomAlias("f"), args -> args.object("f"), args -> args.optionalObject("f"),
                args -> args.nested("f").userId("user_id"), args -> args.event("f"), args -> args.stateEvents("f"),
                args -> args.requestInfo("f"), args -> args.array("f"), args -> args.count("f"),
                args -> args.mediaUploadLimit("f"));
        Gen.forAll(21L, 2000, gen -> {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            if (gen.chance(0.9)) {
                object.set("f", gen.json(3));
            }
            return object;
        }, object -> accessors.forEach(accessor -> {
            try {
                accessor.apply(JsonArgs.of(object));
            } catch (BadArgumentException bad) {
                assertBadArgument(bad);
            }
        }));
    }

    @Test
    void validIdentifiersAreReadAsTheyAre() {
        Gen.forAll(22L, 2000, gen -> List.of(gen.userId(), gen.roomId(), gen.roomAlias()), ids -> {
            ObjectNode object = JsonNodeFactory.instance.objectNode()
                    .put("user", ids.get(0)).put("room", ids.get(1)).put("alias", ids.get(2));
            JsonArgs args = JsonArgs.of(object);
            assertThat(args.userId("user")).isEqualTo(ids.get(0));
            assertThat(args.roomId("room")).isEqualTo(ids.get(1));
            assertThat(args.roomAlias("alias")).isEqualTo(ids.get(2));
        });
    }

    private static void assertReadOrBadArgument(CallbackType<?, ?, ?> type, ObjectNode body) {
        try {
            assertThat(type.reader().apply(JsonArgs.of(body))).isNotNull();
        } catch (BadArgumentException bad) {
            assertBadArgument(bad);
        }
    }

    private static void assertBadArgument(BadArgumentException bad) {
        assertThat(bad.field()).isNotBlank();
        assertThat(bad.getMessage()).contains(bad.field());
    }
}
