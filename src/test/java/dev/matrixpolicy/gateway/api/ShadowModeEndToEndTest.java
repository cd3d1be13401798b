package dev.matrixpolicy.gateway.api;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.test.context.ActiveProfiles;

/** Entries with {@code mode: shadow} (application-shadow.yml): asked and counted, never obeyed. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("shadow")
@ExtendWith(ExpectedOutput.class) // the shadow module's expected failure stays out of the console
class ShadowModeEndToEndTest extends GatewayEndToEnd {

    ShadowModeEndToEndTest() {
        super("shadow-token");
    }

    @Test
    void aShadowStaticEntryThatWouldRefuseLetsTheInviteThroughAndIsCountedAndLogged(CapturedOutput output) {
        Answer answer = gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
        String metrics = scrape(managementPort);
        assertThat(metrics).containsPattern(
                "policy_shadow_answers_total\\{[^}]*callback=\"user_may_invite\"[^}]*module=\"trial-deny\"[^}]*outcome=\"deny\"[^}]*} [1-9]");
        assertThat(metrics).containsPattern(
                "policy_decisions_total\\{[^}]*callback=\"user_may_invite\"[^}]*module=\"none\"[^}]*outcome=\"allow\"[^}]*} [1-9]");
        assertThat(output).contains("Shadow module trial-deny would have decided user_may_invite: outcome=deny");
    }

    @Test
    void whatAShadowEntryWouldHaveRefusedOrFailedIsInTheDecisionLogMarkedShadow() {
        gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@mallory:example.com\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}");
        gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@mallory:example.com\"}");

        Answer log = new GatewayClient(managementPort, null).get("/actuator/decisions?user=@mallory:example.com");

        assertThat(log.json().path("decisions")).extracting(decision -> decision.path("entry").asText() + " "
                        + decision.path("mode").asText() + " " + decision.path("outcome").asText())
                .containsExactly("trial-broken shadow failed", "trial-deny shadow refused");
        assertThat(log.json().at("/decisions/1/errcode").asText()).isEqualTo("M_FORBIDDEN");
    }

    @Test
    void aShadowEntryThatThrowsNeverFailsTheQuestionThoughItsOnFailureIsFailClosed() {
        Answer answer = gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@alice:example.com\"}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(scrape(managementPort)).containsPattern(
                "policy_shadow_answers_total\\{[^}]*callback=\"user_may_create_room\"[^}]*module=\"trial-broken\"[^}]*outcome=\"failed\"[^}]*} [1-9]");
    }
}
