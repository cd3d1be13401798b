package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Trees as deep as an event of 64 KiB can nest are read, written and copied on a virtual thread,
 * whose stack a recursion of that depth would overflow.
 */
class EventJsonTest {
    /** 30,000 levels of an object in a list: 30,000 × 8 bytes, under an event's 64 KiB. */
    private static final int DEPTH = 30_000;
    private static final String DEEP = "{\"content\": " + "[{\"a\": 1, \"b\": ".repeat(DEPTH) + "\"x\"" + "}]".repeat(DEPTH) + "}";

    @Test
    void textHasAUtf8FormUnlessItHoldsHalfASurrogatePairAnywhere() {
        assertThat(List.of("", "abc", "caf\u00e9", "\u4e2d", "a\uD83D\uDE00b", "\uD83D\uDE00"))
                .allMatch(EventJson::hasUtf8Form);
        assertThat(List.of("\uD83D", "a\uD83D", "\uDE00b", "a\uDE00\uD83Db", "\uD83D\uD83D\uDE00", "\uD83D\uDE00\uDE00", "ab\uD83Dc"))
                .noneMatch(EventJson::hasUtf8Form);
    }

    @Test
    void aTreeAsDeepAsAnEventCanNestIsWrittenBackAsItWasRead() throws InterruptedException {
        String written = onAVirtualThread(() -> EventJson.MAPPER.writeValueAsString(EventJson.MAPPER.readTree(DEEP)));

        assertThat(written).isEqualTo(DEEP.replace(": ", ":").replace(", ", ","));
    }

    @Test
    void aTreeHeldInARecordIsWrittenWithoutRecursionToo() throws InterruptedException {
        record Args(String userId, JsonNode event) {
        }
        String written = onAVirtualThread(() -> EventJson.MAPPER.writeValueAsString(
                EventJson.MAPPER.valueToTree(new Args("@a:x", EventJson.MAPPER.readTree(DEEP)))));

        assertThat(written).startsWith("{\"userId\":\"@a:x\",\"event\":{\"content\":[{\"a\":1,").endsWith("}]}}");
        assertThat(written).hasSize(DEEP.replace(": ", ":").replace(", ", ",").length() + "{\"userId\":\"@a:x\",\"event\":}".length());
    }

    @Test
    void aCopyIsEqualAndSharesNoContainerWithItsOriginal() throws InterruptedException {
        ObjectNode original = (ObjectNode) EventJson.MAPPER.readTree("{\"a\": [1, {\"b\": null}, \"c\"], \"d\": {}, \"e\": true}");

        ObjectNode copy = EventJson.copy(original);
        ((ObjectNode) copy.get("a").get(1)).put("b", 2);

        assertThat(EventJson.MAPPER.writeValueAsString(copy)).isEqualTo("{\"a\":[1,{\"b\":2},\"c\"],\"d\":{},\"e\":true}");
        assertThat(EventJson.MAPPER.writeValueAsString(original)).isEqualTo("{\"a\":[1,{\"b\":null},\"c\"],\"d\":{},\"e\":true}");
        String deepCopy = onAVirtualThread(() -> EventJson.MAPPER.writeValueAsString(EventJson.copy(EventJson.MAPPER.readTree(DEEP))));
        assertThat(deepCopy).isEqualTo(DEEP.replace(": ", ":").replace(", ", ","));
    }

    @Test
    void treesAreEqualAsJacksonSaysWithoutRecursion() throws InterruptedException {
        JsonNode a = EventJson.MAPPER.readTree("{\"x\": [1, {\"y\": \"z\", \"w\": null}], \"v\": true}");

        assertThat(EventJson.equal(a, EventJson.MAPPER.readTree("{\"v\": true, \"x\": [1, {\"w\": null, \"y\": \"z\"}]}"))).isTrue();
        assertThat(EventJson.equal(a, EventJson.MAPPER.readTree("{\"v\": true, \"x\": [{\"w\": null, \"y\": \"z\"}, 1]}"))).isFalse();
        assertThat(EventJson.equal(a, EventJson.MAPPER.readTree("{\"v\": true, \"x\": [1, {\"w\": null}]}"))).isFalse();
        assertThat(EventJson.equal(a, EventJson.MAPPER.readTree("{\"v\": true, \"x\": [1, {\"w\": null, \"y\": \"z\", \"u\": 1}]}"))).isFalse();
        assertThat(EventJson.equal(a, EventJson.MAPPER.readTree("{\"v\": \"true\", \"x\": [1, {\"w\": null, \"y\": \"z\"}]}"))).isFalse();
        assertThat(EventJson.equal(EventJson.MAPPER.readTree("{}"), EventJson.MAPPER.readTree("[]"))).isFalse();
        String deepEqual = onAVirtualThread(() -> String.valueOf(EventJson.equal(EventJson.MAPPER.readTree(DEEP), EventJson.MAPPER.readTree(DEEP))));
        String deepOther = onAVirtualThread(() -> String.valueOf(EventJson.equal(EventJson.MAPPER.readTree(DEEP),
                EventJson.MAPPER.readTree(DEEP.replace("\"x\"", "\"y\"")))));
        assertThat(deepEqual).isEqualTo("true");
        assertThat(deepOther).isEqualTo("false");
    }

    @Test
    void aScalarIsItsOwnCopy() {
        JsonNode text = EventJson.MAPPER.readTree("\"x\"");

        assertThat(EventJson.copy(text)).isSameAs(text);
    }

    private interface Work {
        String run() throws Exception;
    }

    private static String onAVirtualThread(Work work) throws InterruptedException {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                result.set(work.run());
            } catch (Throwable failed) {
                result.set(failed);
            }
        }).join();
        assertThat(result.get()).isInstanceOf(String.class);
        return (String) result.get();
    }
}
