package dev.matrixpolicy.gateway.api;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/** Modules that throw or hang, under fail-open and fail-closed links (application-failures.yml). */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("failures")
class FailurePolicyEndToEndTest extends GatewayEndToEnd {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed on", "timed out on");

    private static final String ROOM_REQUEST = "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}";

    FailurePolicyEndToEndTest() {
        super("failures-token");
    }

    @Test
    void failOpenModuleThatThrowsIsSkippedAndTheNextModuleDecides() {
        Answer answer = gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}");

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("error").asString()).isEqualTo("Refused by after");
        assertThat(scrape(managementPort)).containsPattern("policy_module_failures_total\\{[^}]*module=\"broken-open\"[^}]*reason=\"failed\"[^}]*} [1-9]");
    }

    @Test
    void failClosedModuleThatThrowsFailsTheQuestionWith503AndNoModuleName() {
        Answer answer = gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@alice:example.com\"}");

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
        assertThat(answer.body()).doesNotContain("broken-closed").doesNotContain("Exception");
        assertThat(scrape(managementPort)).containsPattern(
                "policy_decisions_total\\{[^}]*callback=\"user_may_create_room\"[^}]*module=\"broken-closed\"[^}]*outcome=\"error\"");
    }

    /**
     * A StackOverflowError escaped the failure policy as a 500, which the homeserver's module reads as
     * the gateway's outage and answers by its own on_failure (fail-open: the join goes ahead), where a
     * fail-closed entry's failure is the gateway's decision: 503 M_UNKNOWN.
     */
    @Test
    void failClosedModuleThatOverflowsItsStackFailsTheQuestionWith503() {
        Answer answer = gateway.post("/v1/spam_checker/user_may_join_room",
                "{\"user\": \"@alice:example.com\", \"room\": \"!room:example.com\", \"is_invited\": false}");

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
        assertThat(answer.body()).doesNotContain("overflowing-closed").doesNotContain("Error");
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_failures_total\\{[^}]*module=\"overflowing-closed\"[^}]*reason=\"failed\"[^}]*} [1-9]");
    }

    @Test
    void failOpenModuleThatHangsTimesOutAndIsSkipped() {
        Answer answer = gateway.post("/v1/spam_checker/user_may_publish_room", ROOM_REQUEST);

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("error").asString()).isEqualTo("Refused by after");
        assertThat(scrape(managementPort)).containsPattern("policy_module_failures_total\\{[^}]*module=\"hanging-open\"[^}]*reason=\"timed_out\"");
    }

    @Test
    void failClosedModuleThatHangsTimesOutAndFailsTheQuestion() {
        Answer answer = gateway.post("/v1/third_party_rules/check_can_shutdown_room", ROOM_REQUEST);

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
    }

    @Test
    void notificationsReachEveryModuleEvenWhenAFailClosedOneThrows() {
        Answer answer = gateway.post("/v1/account_validity/on_user_registration", "{\"user\": \"@carol:example.com\"}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_seconds_count\\{[^}]*callback=\"on_user_registration\"[^}]*module=\"after\"[^}]*outcome=\"answered\"[^}]*} [1-9]");
    }
}
