package dev.matrixpolicy.gateway.callbacks;

import java.nio.charset.StandardCharsets;

/** A check_event_allowed body as bench/make_fixtures.py writes it, with any number of state events (about 290 bytes each). */
public final class StateEventsBody {
    private StateEventsBody() {
    }

    public static byte[] of(int stateEvents) {
        String event = new String(RequestParsingBenchmark.EVENT, StandardCharsets.UTF_8);
        StringBuilder body = new StringBuilder(event.substring(0, event.length() - 1)).append(", \"state_events\": [");
        for (int n = 0; n < stateEvents; n++) {
            body.append(n == 0 ? "" : ", ").append(n == 0
                    ? "{\"event_id\": \"$create:example.com\", \"sender\": \"@alice:example.com\", \"room_id\": \"!OGEhHVWSdvArJzumhm:matrix.org\","
                      + " \"type\": \"m.room.create\", \"state_key\": \"\", \"content\": {\"room_version\": \"10\"}}"
                    : "{\"event_id\": \"$state" + n + ":example.com\", \"sender\": \"@alice:example.com\","
                      + " \"room_id\": \"!OGEhHVWSdvArJzumhm:matrix.org\", \"type\": \"m.room.member\", \"state_key\": \"@member" + n
                      + ":example.com\", \"content\": {\"membership\": \"join\", \"displayname\": \"Member " + n + "\"}}");
        }
        return body.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }
}
