package dev.matrixpolicy.gateway.modules.contentrules;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/** {@code content_rules} over real HTTP, in enforce and shadow mode, with its counter (application-contentrules.yml). */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("contentrules")
class ContentRulesEndToEndTest extends GatewayEndToEnd {

    private static final String EVENTS = "/v1/spam_checker/check_event_for_spam";

    ContentRulesEndToEndTest() {
        super("content-token");
    }

    @Test
    void aMessageOverTheMentionLimitIsRefusedWithTheConfiguredErrcode() {
        Answer answer = check("@alice:example.com", "{\"body\": \"hi\", \"m.mentions\": {\"user_ids\": "
                + "[\"@a:x.org\", \"@b:x.org\", \"@c:x.org\"]}}");

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too many mentions\"}"));
    }

    @Test
    void aSpammyLinkIsRefusedAndAnInnocentMessageIsNotSpam() {
        Answer spam = check("@alice:example.com", "{\"body\": \"win at https://WIN.Spam.example/now\"}");
        Answer fine = check("@alice:example.com", "{\"body\": \"notes at https://docs.example.com\"}");

        assertThat(spam.status()).isEqualTo(403);
        assertThat(spam.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        assertThat(fine.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
    }

    @Test
    void keywordsAndRegexesRefuseExceptForAnExemptServer() {
        assertThat(check("@alice:example.com", "{\"body\": \"best ϲasino\"}").status()).isEqualTo(403);
        assertThat(check("@alice:example.com", "{\"body\": \"FREE Bitcoin2026\"}").status()).isEqualTo(403);
        assertThat(check("@alice:trusted.example", "{\"body\": \"best casino\"}").status()).isEqualTo(200);
    }

    @Test
    void aShadowModeRuleRefusesNothingButItsCounterMoves() {
        Answer answer = check("@alice:example.com", "{\"body\": \"a trialword here\"}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_content_rules_matches_total\\{[^}]*module=\"trial-content\"[^}]*rule=\"trial-words\"[^}]*} [1-9]");
    }

    @Test
    void theSameTextInTooManyRoomsIsRefusedAndExplanationsDoNotCountTowardsIt() {
        String sender = "@repeater:example.com";
        String content = "{\"body\": \"join my channel, everyone is welcome\"}";
        GatewayClient management = new GatewayClient(managementPort, null);
        for (int room = 1; room <= 4; room++) {
            Answer explained = management.post("/actuator/explain/spam_checker/check_event_for_spam", event(sender, "!r" + room + ":example.com", content));
            assertThat(explained.json().path("status").asInt()).as("explained in room %d", room).isEqualTo(200);
        }

        assertThat(gateway.post(EVENTS, event(sender, "!r1:example.com", content)).status()).isEqualTo(200);
        assertThat(gateway.post(EVENTS, event(sender, "!r2:example.com", content)).status()).isEqualTo(200);
        Answer third = gateway.post(EVENTS, event(sender, "!r3:example.com", content));

        assertThat(third.status()).isEqualTo(403);
        assertThat(third.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
    }

    /**
     * A message whose other fields nest deeper than Jackson's 500 levels (Synapse on Python 3.14
     * takes them as deep as 64 KiB goes) is read, not answered 400, which a homeserver failing open
     * would take as a pass for any text.
     */
    @Test
    void aListedWordIsRefusedHoweverDeepTheRestOfTheContentNests() {
        String deep = "[".repeat(30_000) + "]".repeat(30_000);

        Answer answer = check("@alice:example.com", "{\"body\": \"best casino\", \"x\": " + deep + "}");

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        assertThat(check("@alice:example.com", "{\"body\": \"hello\", \"x\": " + deep + "}").status()).isEqualTo(200);
    }

    private Answer check(String sender, String content) {
        return gateway.post(EVENTS, event(sender, "!room:example.com", content));
    }

    private static String event(String sender, String room, String content) {
        return "{\"event\": {\"event_id\": \"$e\", \"room_id\": \"" + room + "\", \"type\": \"m.room.message\", "
                + "\"sender\": \"" + sender + "\", \"content\": " + content + "}}";
    }
}
