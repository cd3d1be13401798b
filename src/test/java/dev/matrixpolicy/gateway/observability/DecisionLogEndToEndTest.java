package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.Warnings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * {@code /actuator/decisions} over real HTTP: refusals and fail-closed failures answered by the policy
 * API are there, newest first, with the IDs involved and never the request's content; allowed requests
 * are not; filters match exactly; the ring holds its capacity (application-console.yml: 50). The tests
 * share one gateway: each uses users of its own and finds its decisions by them.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles(ConsoleGateway.PROFILE)
class DecisionLogEndToEndTest {
    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @RegisterExtension
    final Warnings warnings = new Warnings();

    GatewayClient gateway;
    GatewayClient management;

    @DynamicPropertySource
    static void rules(DynamicPropertyRegistry registry) {
        ConsoleGateway.rulesFile(registry);
    }

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, ConsoleGateway.TOKEN);
        management = new GatewayClient(managementPort, null);
    }

    @Test
    void aRefusalIsLoggedWithItsEntryAnswerAndTheIdsInvolved() {
        Answer refused = invite("@mallory:evil.example", "@first-bob:example.com");
        assertThat(refused.status()).isEqualTo(403);

        JsonNode decision = decisions("?user=@first-bob:example.com").get("decisions").get(0);
        assertThat(decision.get("category").asString()).isEqualTo("spam_checker");
        assertThat(decision.get("callback").asString()).isEqualTo("user_may_invite");
        assertThat(decision.get("entry").asString()).isEqualTo("known-spammers");
        assertThat(decision.get("mode").asString()).isEqualTo("enforce");
        assertThat(decision.get("outcome").asString()).isEqualTo("refused");
        assertThat(decision.get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        assertThat(decision.get("reason").asString()).isEqualTo("This account is not welcome on this server");
        assertThat(decision.get("status").intValue()).isEqualTo(403);
        assertThat(decision.get("time").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,3})?Z");
        assertThat(strings(decision.get("users"))).containsExactly("@mallory:evil.example", "@first-bob:example.com");
        assertThat(strings(decision.get("rooms"))).containsExactly("!room:example.com");
        assertThat(strings(decision.get("servers"))).containsExactly("evil.example", "example.com");
        assertThat(warnings.lines()).isEmpty();
    }

    @Test
    void allowedRequestsAreNotLogged() {
        long before = decisions("").get("recorded").longValue();
        assertThat(invite("@alice:example.com", "@allowed-bob:example.com").status()).isEqualTo(200);

        JsonNode log = decisions("?user=@alice:example.com");
        assertThat(log.get("decisions")).isEmpty();
        assertThat(log.get("recorded").longValue()).isEqualTo(before);
        assertThat(log.get("capacity").intValue()).isEqualTo(50);
    }

    @Test
    void anEventsContentNeverEntersTheLogEvenWhenItNamesAUser() {
        Answer refused = gateway.post("/v1/spam_checker/check_event_for_spam", """
                {"event": {"event_id": "$e", "type": "m.room.message", "sender": "@mallory:evil.example",
                           "room_id": "!room:example.com", "origin_server_ts": 1,
                           "content": {"msgtype": "m.text", "body": "hey @victim:content.example, join #scam:content.example"},
                           "unsigned": {"age": 5}}}""");
        assertThat(refused.status()).as(refused.body()).isEqualTo(403);

        Answer log = management.get("/actuator/decisions?callback=check_event_for_spam");
        assertThat(log.body()).contains("@mallory:evil.example").contains("!room:example.com")
                .doesNotContain("content.example").doesNotContain("hey").doesNotContain("m.text");
    }

    @Test
    void aModuleThatFailsClosedIsLoggedAsAFailureWithTheAnswered503() {
        Answer failed = gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@carol:example.com\"}");
        assertThat(failed.status()).isEqualTo(503);

        JsonNode decision = decisions("?user=@carol:example.com").get("decisions").get(0);
        assertThat(decision.get("outcome").asString()).isEqualTo("failed");
        assertThat(decision.get("verdict").asString()).isEqualTo("error");
        assertThat(decision.get("entry").asString()).isEqualTo("broken");
        assertThat(decision.get("errcode").asString()).isEqualTo("M_UNKNOWN");
        assertThat(decision.get("status").intValue()).isEqualTo(503);
        assertThat(decision.get("reason").asString()).contains("module 'broken' failed on user_may_create_room");
        assertThat(strings(decision.get("users"))).containsExactly("@carol:example.com");
    }

    @Test
    void filtersByUserRoomCallbackAndEntryMatchExactlyNewestFirst() {
        invite("@x:spam.example", "@dave:example.com");
        gateway.post("/v1/spam_checker/user_may_publish_room", "{\"user_id\": \"@dave:example.com\", \"room_id\": \"!pub:example.com\"}");

        assertThat(callbacks(decisions("?user=@dave:example.com"))).containsExactly("user_may_publish_room", "user_may_invite");
        assertThat(callbacks(decisions("?room=!pub:example.com"))).containsExactly("user_may_publish_room");
        assertThat(callbacks(decisions("?user=@dave:example.com&callback=user_may_invite&entry=known-spammers")))
                .containsExactly("user_may_invite");
        assertThat(callbacks(decisions("?user=@dave:example.com&entry=no-directory-publishing"))).containsExactly("user_may_publish_room");
        assertThat(callbacks(decisions("?user=@dave:example.com&limit=1"))).containsExactly("user_may_publish_room");
        assertThat(callbacks(decisions("?user=@dave:example.com&room=&callback=&entry="))).hasSize(2);
    }

    @Test
    void theRingKeepsItsCapacityAndCountsEverything() {
        long before = decisions("").get("recorded").longValue();
        for (int i = 0; i < 60; i++) {
            invite("@u" + i + ":spam.example", "@ring-bob:example.com");
        }

        JsonNode log = decisions("");
        assertThat(log.get("recorded").longValue()).isEqualTo(before + 60);
        assertThat(log.get("decisions")).hasSize(50);
        assertThat(strings(log.get("decisions").get(0).get("users"))).startsWith("@u59:spam.example");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-3", "abc", "1.5", "%EF%BC%91" /* a fullwidth 1 */, "%D9%A1%D9%A0" /* 10 in Arabic-Indic digits */, "0x10"})
    void aLimitThatIsNoWholeNumberOfAtLeastOneIsRefusedAsMatrixJsonNamingIt(String limit) {
        Answer answer = management.get("/actuator/decisions?limit=" + limit);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
        assertThat(answer.json().get("error").asString()).contains("'limit'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"user=@spammer:evil.example&user=@x:y", "limit=1&limit=5", "callback=a&callback=b"})
    void aParameterGivenTwiceIsRefusedRatherThanJoined(String query) {
        Answer answer = management.get("/actuator/decisions?" + query);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
        assertThat(answer.json().get("error").asString()).contains("is given more than once");
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999", "9223372036854775807", "99999999999999999999", "+51"})
    void aLimitAboveTheCapacityIsTheCapacityHoweverManyDigitsItHas(String limit) {
        invite("@x:spam.example", "@cap-bob:example.com");

        assertThat(callbacks(decisions("?user=@cap-bob:example.com&limit=" + limit))).isNotEmpty().containsOnly("user_may_invite");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            user=alice                                   | user    | not a valid Matrix user ID: expected @localpart:server_name
            user=@dave                                   | user    | not a valid Matrix user ID
            room=pub:example.com                         | room    | expected a room ID (!opaque:server_name) or a room alias (#localpart:server_name)
            room=%23pub                                  | room    | not a valid Matrix room alias
            callback=spam_checker/user_may_invite        | callback | expected a Synapse callback name, e.g. user_may_invite, without its category: 'user_may_invite'
            callback=user_may_invit                      | callback | expected a Synapse callback name, e.g. user_may_invite
            entry=known-spamers                          | entry   | no module instance of that name serves now, nor decided a decision the log holds; serving: known-spammers
            """)
    void aDecisionsFilterThatCouldOnlyBeMisspeltIsRefusedNamingTheParameterAndWhatItExpects(String query, String name,
                                                                                             String expected) {
        Answer answer = management.get("/actuator/decisions?" + query);

        assertThat(answer.status()).as(answer.body()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
        assertThat(answer.json().get("error").asString()).startsWith("Invalid query parameter '" + name + "': ").contains(expected);
    }

    @Test
    void aRoomAliasAndAServingEntryThatDecidedNothingYetAreFiltersThatMatchNothing() {
        assertThat(callbacks(decisions("?room=%23nowhere:example.com"))).isEmpty();
        assertThat(callbacks(decisions("?user=@nobody:example.com&entry=notified-service"))).isEmpty();
    }

    private Answer invite(String inviter, String invitee) {
        return gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"" + inviter + "\", \"invitee\": \"" + invitee + "\", \"room_id\": \"!room:example.com\"}");
    }

    private JsonNode decisions(String query) {
        Answer answer = management.get("/actuator/decisions" + query);
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json();
    }

    private static java.util.List<String> callbacks(JsonNode log) {
        return log.get("decisions").valueStream().map(d -> d.get("callback").asString()).toList();
    }

    private static java.util.List<String> strings(JsonNode array) {
        return array.valueStream().map(JsonNode::asString).toList();
    }
}
