package dev.matrixpolicy.gateway.modules.ratelimitoverrides;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;

/**
 * {@code get_ratelimit_override_for_user} over real HTTP through {@code ratelimit_overrides}
 * (application-ratelimit.yml): support staff get more on every limiter, listed servers less on two.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("ratelimit")
class RatelimitOverridesEndToEndTest extends GatewayEndToEnd {
    RatelimitOverridesEndToEndTest() {
        super("ratelimit-token");
    }

    @Test
    void supportStaffGetMoreOnEveryLimiter() {
        for (String limiter : new String[] {"rc_invites.per_room", "rc_invites.per_user", "rc_invites.per_issuer"}) {
            assertThat(override("@support-anna:example.com", limiter))
                    .isEqualTo(GatewayClient.json("{\"per_second\": 10.0, \"burst_count\": 100}"));
        }
        assertThat(override("@welcome-bot:example.com", "rc_invites.per_issuer").get("burst_count").intValue()).isEqualTo(100);
    }

    @Test
    void listedServersGetLessOnlyOnTheirRulesLimiters() {
        assertThat(override("@mallory:spammy.example", "rc_invites.per_issuer"))
                .isEqualTo(GatewayClient.json("{\"per_second\": 0.001, \"burst_count\": 1}"));
        assertThat(override("@mallory:spammy.example", "rc_invites.per_room").isNull()).isTrue();
    }

    @Test
    void everyoneElseKeepsSynapsesConfiguredLimits() {
        assertThat(override("@carol:example.com", "rc_invites.per_user").isNull()).isTrue();
    }

    @Test
    void answersAreCountedByRuleAndLimiter() {
        override("@support-ben:example.com", "rc_invites.per_room");
        override("@support-ben:example.com", "rc_something_newer");

        String metrics = scrape(managementPort);
        assertThat(metrics).containsPattern("policy_module_ratelimit_overrides_applied_total\\{[^}]*limiter=\"rc_invites.per_room\""
                + "[^}]*module=\"invites\"[^}]*rule=\"support\"[^}]*} [1-9]");
        assertThat(metrics).containsPattern("policy_module_ratelimit_overrides_applied_total\\{[^}]*limiter=\"other\""
                + "[^}]*rule=\"support\"[^}]*} [1-9]");
    }

    @Test
    void missingLimiterNameIsTheClientsMistake() {
        Answer answer = gateway.post("/v1/ratelimit/get_ratelimit_override_for_user", "{\"user_id\": \"@carol:example.com\"}");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_MISSING_PARAM");
    }

    private JsonNode override(String user, String limiter) {
        Answer answer = gateway.post("/v1/ratelimit/get_ratelimit_override_for_user",
                "{\"user_id\": \"" + user + "\", \"limiter_name\": \"" + limiter + "\"}");
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json().get("result");
    }
}
