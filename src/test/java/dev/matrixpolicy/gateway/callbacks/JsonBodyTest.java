package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.Gen;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reading a callback's arguments from a request body's bytes, whose lists are checked as they stream
 * past, gives what reading them from the body's tree gives: the same arguments, or the same bad
 * argument with the same field and message.
 */
class JsonBodyTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int TRIES = 300;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void changedBodiesReadFromBytesAsFromTheirTree(String path, String body, int status, String expected) {
        CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(path)).findFirst().orElseThrow();
        ObjectNode valid = Gen.parse(body);

        assertThat(readFromBytes(type.reader(), valid)).isEqualTo(readFromTree(type.reader(), valid));
        Gen.forAll(path.hashCode(), TRIES, gen -> gen.mutate(valid),
                changed -> assertThat(readFromBytes(type.reader(), changed)).isEqualTo(readFromTree(type.reader(), changed)));
    }

    @Test
    void everyListAccessorReadsArbitraryValuesFromBytesAsFromTheirTree() {
        List<Function<JsonArgs, Object>> accessors = List.of(args -> args.stateEvents("f"), args -> args.requestInfo("f"),
                args -> args.array("f"), args -> args.objects("f", element -> element.userId("user_id")));
        Gen.forAll(23L, 2000, gen -> {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            if (gen.chance(0.9)) {
                object.set("f", gen.chance(0.5) ? gen.json(3) : JsonNodeFactory.instance.arrayNode().add(gen.json(2)));
            }
            return object;
        }, object -> accessors.forEach(accessor ->
                assertThat(readFromBytes(accessor, object)).isEqualTo(readFromTree(accessor, object))));
    }

    /**
     * What the decision log reads of a refused request (its top-level IDs, and those of its event,
     * requester and profile) is in the outline, which reads no list again: a room's whole state is not
     * made into a tree to log a refusal. The list's bytes are spoiled after the one pass to prove it.
     */
    @Test
    void theOutlineHoldsTheTopLevelScalarsAndEachObjectsOwnWithoutReadingAListAgain() {
        String json = "{\"user_id\": \"@a:example.com\", \"requester\": {\"user_id\": \"@r:example.com\"},"
                + " \"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}";
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        JsonBody body = body(bytes);
        int list = json.indexOf("\"state_events\": ") + "\"state_events\": ".length();
        bytes[list + 1] = '}';

        ObjectNode outline = body.outline();

        ObjectNode event = (ObjectNode) JSON.readTree(Fixtures.MESSAGE_EVENT);
        assertThat(outline.get("user_id").asString()).isEqualTo("@a:example.com");
        assertThat(outline.at("/requester/user_id").asString()).isEqualTo("@r:example.com");
        assertThat(outline.at("/event/sender")).isEqualTo(event.get("sender"));
        assertThat(outline.at("/event/room_id")).isEqualTo(event.get("room_id"));
        assertThat(outline.has("state_events")).isFalse();
        assertThatThrownBy(body::tree).isInstanceOf(JacksonException.class);
    }

    @Test
    void aBadStateEventIsNamedByItsIndex() {
        String body = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": [" + event("$a", "@alice:example.com", "{}")
                + ", " + event("$b", "alice", "{}") + "]}";

        assertThatThrownBy(() -> CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(body(body))))
                .isInstanceOfSatisfying(BadArgumentException.class, bad -> assertThat(bad.field()).isEqualTo("state_events[1].sender"))
                .hasMessageStartingWith("'state_events[1].sender' is ");
    }

    @Test
    void stateEventContentMustStillBeAnObjectOrNull() {
        String body = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": [" + event("$a", "@alice:example.com", "null")
                + ", " + event("$b", "@alice:example.com", "[{\"deep\": [1, 2]}]") + "]}";

        assertThatThrownBy(() -> CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(body(body))))
                .hasMessage("'state_events[1].content' must be a JSON object");
    }

    @Test
    void stateEventsAreKeptAsSent() {
        String body = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}";

        List<ClientEvent> state = CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(body(body))).stateEvents();

        assertThat(state).hasSize(2);
        assertThat(state.get(1).content()).isEqualTo(JSON.readTree("{\"membership\": \"join\"}"));
        assertThat((Object) JSON.valueToTree(state)).isEqualTo(JSON.readTree(Fixtures.STATE_EVENTS));
    }

    @Test
    void theLastOfARepeatedFieldCountsAsInTheTree() {
        String body = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + ", \"state_events\": 5}";

        assertThatThrownBy(() -> CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(body(body))))
                .hasMessage("'state_events' must be a list of state events");
        assertThat(body(body).tree().get("state_events").asInt()).isEqualTo(5);
    }

    @Test
    void threadsReadingTheStateTogetherShareOneCopyOfEachEvent() throws Exception {
        String body = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}";
        List<ClientEvent> state = CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(body(body))).stateEvents();
        CyclicBarrier start = new CyclicBarrier(4);

        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            List<Future<ClientEvent>> reads = IntStream.range(0, 4).mapToObj(i -> threads.submit(() -> {
                start.await();
                return state.getFirst();
            })).toList();

            ClientEvent first = reads.getFirst().get();
            for (Future<ClientEvent> read : reads) {
                assertThat(read.get()).isSameAs(first);
            }
        }
    }

    @Test
    void anEventIsReadFromTheBodysOnePassAndItsTreeMadeOnceForEveryThread() throws Exception {
        String body = "{\"event\": " + Fixtures.MESSAGE_EVENT + "}";
        ClientEvent event = CheckEventForSpam.TYPE.reader().apply(JsonArgs.of(body(body))).event();
        CyclicBarrier start = new CyclicBarrier(4);

        assertThat(List.of(event.eventId(), event.sender(), event.roomId(), event.type()))
                .containsExactly("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "@alice:example.com", "!room:example.com", "m.room.message");
        assertThat(event.stateKey()).isEmpty();
        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            List<Future<ObjectNode>> reads = IntStream.range(0, 4).mapToObj(i -> threads.submit(() -> {
                start.await();
                return event.json();
            })).toList();

            for (Future<ObjectNode> read : reads) {
                assertThat(read.get()).isSameAs(event.json());
            }
        }
        assertThat((Object) event.json()).isEqualTo(JSON.readTree(Fixtures.MESSAGE_EVENT));
        assertThat(event.content()).isSameAs(event.json().get("content"));
    }

    @Test
    void anEventSentTwiceIsReadAsItsLastValue() {
        String first = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"event\": 5}";
        String last = "{\"event\": 5, \"event\": " + Fixtures.MESSAGE_EVENT + "}";

        assertThatThrownBy(() -> CheckEventForSpam.TYPE.reader().apply(JsonArgs.of(body(first))))
                .hasMessage("'event' must be a JSON object");
        assertThat((Object) CheckEventForSpam.TYPE.reader().apply(JsonArgs.of(body(last))).event().json())
                .isEqualTo(JSON.readTree(Fixtures.MESSAGE_EVENT));
    }

    /**
     * A list's elements are checked on outlines made one at a time, none kept: a room's state of 1 MB
     * in membership events has outlines of 3.2 MB, which its request held until the answer, uncounted
     * by the bodies' budget. Weak references to the outlines the check saw are cleared by a full
     * collection while the body and its checked list are still held.
     */
    @Test
    void aListsElementsAreCheckedOnOutlinesThatTheBodyDoesNotKeep() {
        String state = IntStream.range(0, 50).mapToObj(n -> event("$e" + n, "@alice:example.com", "{\"membership\": \"join\"}"))
                .collect(Collectors.joining(",", "{\"state_events\": [", "]}"));
        JsonBody body = body(state);
        List<WeakReference<JsonNode>> outlines = new ArrayList<>();

        List<ObjectNode> checked = body.elements("state_events", (index, outline) -> outlines.add(new WeakReference<>(outline)),
                element -> element);

        assertThat(outlines).hasSize(50);
        for (int collection = 0; collection < 10 && outlines.stream().anyMatch(outline -> outline.get() != null); collection++) {
            System.gc();
        }
        assertThat(outlines).as("no outline is kept").allMatch(outline -> outline.get() == null);
        assertThat(checked).hasSize(50);
        assertThat(body.get("state_events")).hasSize(50);
    }

    @Test
    void aListCheckedAgainIsCheckedOnTheSameOutlinesMadeAgain() {
        JsonBody body = body("{\"state_events\": [" + event("$a", "@alice:example.com", "{\"membership\": \"join\"}") + ", 7]}");
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();

        body.elements("state_events", (index, outline) -> first.add(index + " " + outline), element -> element);
        body.elements("state_events", (index, outline) -> second.add(index + " " + outline), element -> element);

        assertThat(first).hasSize(2).first().asString().contains("$a").doesNotContain("membership");
        assertThat(second).isEqualTo(first);
    }

    @Test
    void bytesThatAreNotUtf8InAnEventsContentAreRefusedWhenTheBodyIsRead() {
        String valid = "{\"event\": {\"event_id\": \"$a\", \"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\","
                + " \"type\": \"m.room.message\", \"content\": {\"body\": \"caf\u00e9 X\"}}}";
        byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
        int accent = valid.indexOf('\u00e9');
        bytes[accent + 1] = '('; // the accent's second byte is no longer a continuation byte

        assertThatThrownBy(() -> body(bytes)).isInstanceOf(JacksonException.class).hasMessageContaining("UTF-8");
    }

    /**
     * What a reader makes of a body: its arguments as the http module forwards them, the bad argument,
     * or that the body is not JSON (the generated strings may hold lone surrogates).
     */
    private static Object readFromBytes(Function<JsonArgs, ?> reader, ObjectNode body) {
        return outcome(() -> reader.apply(JsonArgs.of(body(JSON.writeValueAsBytes(body)))));
    }

    /** As the API read every body before: the whole of it as a tree, parsed from the same bytes. */
    private static Object readFromTree(Function<JsonArgs, ?> reader, ObjectNode body) {
        return outcome(() -> reader.apply(JsonArgs.of((ObjectNode) JSON.readTree(JSON.writeValueAsBytes(body)))));
    }

    private static Object outcome(Supplier<?> read) {
        try {
            return ArgsJson.write(new Wrapper(read.get()));
        } catch (BadArgumentException bad) {
            return List.of(bad.kind(), bad.field(), bad.getMessage());
        } catch (JacksonException notJson) {
            return "not JSON";
        }
    }

    private record Wrapper(Object args) {
    }

    static JsonBody body(String json) {
        return body(json.getBytes(StandardCharsets.UTF_8));
    }

    static JsonBody body(byte[] bytes) {
        try (JsonParser parser = JSON.createParser(bytes)) {
            parser.nextToken();
            return JsonBody.read(JSON, bytes, parser);
        }
    }

    private static String event(String eventId, String sender, String content) {
        return "{\"event_id\": \"" + eventId + "\", \"sender\": \"" + sender + "\", \"room_id\": \"!room:example.com\","
                + " \"type\": \"m.room.member\", \"state_key\": \"\", \"content\": " + content + "}";
    }
}
