package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A room version 12 create event names no room (MSC4291: its hash is the room's ID), and
 * synapse-http-antispam v0.5.0 sends it to {@code check_event_for_spam} as Synapse holds it, without
 * {@code room_id}, whenever a local user joins such a room over federation. The gateway reads it as
 * about the room its ID makes; any other event without a room is still a bad argument.
 */
class RoomVersion12CreateEventArgumentsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String CREATE_EVENT_ID = "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg";

    static Stream<Function<String, JsonArgs>> bodies() {
        return Stream.of(body -> JsonArgs.of((ObjectNode) JSON.readTree(body)), body -> JsonArgs.of(JsonBodyTest.body(body)));
    }

    @ParameterizedTest
    @MethodSource("bodies")
    void aRoomVersion12CreateEventSentWithoutItsRoomIsAboutTheRoomItsIdMakes(Function<String, JsonArgs> args) {
        ClientEvent event = checkEventForSpam(args, createEvent(CREATE_EVENT_ID, "\"\""));

        assertThat(event.roomId()).isEqualTo("!Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg");
        assertThat(event.json().has("room_id")).isFalse(); // kept as sent
    }

    @ParameterizedTest
    @MethodSource("bodies")
    void anEventThatMakesNoRoomStillNeedsItsRoom(Function<String, JsonArgs> args) {
        String[] withoutRoom = {
                createEvent("$create:example.com", "\"\""), // a room version 1 or 2 create event names its room
                createEvent(CREATE_EVENT_ID, "\"x\""),
                createEvent(CREATE_EVENT_ID, "null"),
                createEvent(CREATE_EVENT_ID, "\"\"").replace("m.room.create", "m.room.message"),
                createEvent(CREATE_EVENT_ID, "\"\"").replace("\"sender\"", "\"room_id\": null, \"sender\""),
        };
        for (String event : withoutRoom) {
            assertThatExceptionOfType(BadArgumentException.class).as(event)
                    .isThrownBy(() -> checkEventForSpam(args, event))
                    .satisfies(bad -> assertThat(bad.field()).isEqualTo("event.room_id"));
        }
    }

    private static ClientEvent checkEventForSpam(Function<String, JsonArgs> args, String event) {
        return CheckEventForSpam.TYPE.reader().apply(args.apply("{\"event\": " + event + "}")).event();
    }

    /** As synapse-http-antispam sends it: Synapse's event in client format, with its ID added. */
    private static String createEvent(String eventId, String stateKey) {
        return "{\"event_id\": \"" + eventId + "\", \"sender\": \"@alice:example.org\", \"type\": \"m.room.create\","
                + " \"state_key\": " + stateKey + ", \"origin_server_ts\": 1700000000000,"
                + " \"content\": {\"room_version\": \"12\"}, \"unsigned\": {\"age\": 5}}";
    }
}
