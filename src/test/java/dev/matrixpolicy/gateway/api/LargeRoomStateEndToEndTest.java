package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/**
 * A room of 5,000 state events (about 1.5 MiB, with {@code max-body-size} raised) is answered like a
 * small one, and a bad event deep in it is named by its index, as in a small one.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.server.port=0", "policy-gateway.max-body-size=4MB"})
@ActiveProfiles("e2e")
class LargeRoomStateEndToEndTest {
    private static final int EVENTS = 5_000;

    @LocalServerPort
    int port;

    GatewayClient gateway;

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "e2e-secret-token");
    }

    @Test
    void aRoomOfFiveThousandStateEventsIsAnsweredByTheChain() {
        Answer answer = gateway.post("/v1/third_party_rules/check_event_allowed", body(-1, ""));

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": {\"allowed\": false, \"replacement\": null}}"));
    }

    @Test
    void aBadStateEventDeepInALargeRoomIsNamedByItsIndex() {
        Answer answer = gateway.post("/v1/third_party_rules/check_event_allowed", body(4_321, "alice"));

        assertThat(answer.status()).as(answer.body()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
        assertThat(answer.json().get("error").asString()).startsWith("'state_events[4321].sender' is ");
    }

    /**
     * A member whose ID Synapse takes though the spec's grammar does not (an older server's, or one a
     * remote server made up) must not fail every question about the room: Synapse hands it on.
     */
    @Test
    void aMemberWithANonCompliantUserIdDoesNotFailTheRoom() {
        Answer answer = gateway.post("/v1/third_party_rules/check_event_allowed", body(4_321, "@\u00e9l\u00e8ve:remote.example"));

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
    }

    /** {@value EVENTS} membership events of about 300 bytes; the one at {@code other}, if any, has {@code sender} as its sender. */
    private static String body(int other, String sender) {
        String state = IntStream.range(0, EVENTS).mapToObj(n -> "{\"event_id\": \"$state" + n + ":example.com\", \"sender\": \""
                        + (n == other ? sender : "@alice:example.com") + "\", \"room_id\": \"!room:example.com\","
                        + " \"type\": \"m.room.member\", \"state_key\": \"@member" + n + ":example.com\","
                        + " \"origin_server_ts\": 1700000000000, \"content\": {\"membership\": \"join\", \"displayname\": \"Member " + n + "\"}}")
                .collect(Collectors.joining(", ", "[", "]"));
        return "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + state + "}";
    }
}
