package dev.matrixpolicy.gateway.modules.auditwebhook;

import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static dev.matrixpolicy.gateway.modules.auditwebhook.Eventually.eventually;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/** The gateway over real HTTP with audit webhooks in its chains (application-audit.yml) and WireMock as the webhook. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("audit")
class AuditWebhookEndToEndTest {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("dropped after");

    private static final String NOTHING = "{\"result\": null}";
    private static final WireMockServer webhook = new WireMockServer(options().dynamicPort());

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    GatewayClient gateway;

    @DynamicPropertySource
    static void webhookUrls(DynamicPropertyRegistry registry) {
        webhook.start();
        webhook.stubFor(post("/audit").willReturn(ok()));
        webhook.stubFor(post("/slow").willReturn(ok().withFixedDelay(10_000)));
        registry.add("audit-test.webhook", webhook::baseUrl);
        registry.add("audit-test.unreachable", () -> "http://127.0.0.1:" + unusedPort());
    }

    @AfterAll
    static void stopWebhook() {
        webhook.stop();
    }

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "audit-token");
    }

    @Test
    void accountDataChangeIsAcknowledgedAndReportedToTheWebhook() {
        String change = """
                {"user_id": "@dana:example.com", "room_id": null, "account_data_type": "m.ignored_user_list",
                 "content": {"ignored_users": {"@spammer:example.org": {}}}}""";

        Answer answer = gateway.post("/v1/account_data/on_account_data_updated", change);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json(NOTHING));
        LoggedRequest request = onlyRecordAbout("@dana:example.com");
        assertThat(request.getHeader("Authorization")).isEqualTo("Bearer webhook-secret");
        JsonNode record = GatewayClient.json(request.getBodyAsString());
        assertThat(record.get("callback").asString()).isEqualTo("on_account_data_updated");
        assertThat(record.get("category").asString()).isEqualTo("account_data");
        assertThat(record.get("server_name").asString()).isEqualTo("example.com");
        assertThat(record.get("arguments")).isEqualTo(GatewayClient.json(change));
    }

    @Test
    void logoutIsReportedWithoutItsAccessToken() {
        Answer answer = gateway.post("/v1/password_auth_provider/on_logged_out",
                "{\"user_id\": \"@erin:example.com\", \"device_id\": null, \"access_token\": \"syt_ZXJpbg_secret\"}");

        assertThat(answer.status()).isEqualTo(200);
        LoggedRequest request = onlyRecordAbout("@erin:example.com");
        assertThat(request.getBodyAsString()).doesNotContain("syt_ZXJpbg_secret");
        assertThat(GatewayClient.json(request.getBodyAsString()).get("arguments").get("access_token").asString())
                .isEqualTo("<redacted>");
    }

    @Test
    void slowWebhookNeverSlowsTheAnswerAndItsTimeoutsAreCounted() {
        long start = System.nanoTime();

        Answer answer = gateway.post("/v1/third_party_rules/on_profile_update",
                "{\"user_id\": \"@frank:example.com\", \"new_profile\": {\"display_name\": \"Frank\", \"avatar_url\": null},"
                        + " \"by_admin\": false, \"deactivation\": false}");

        assertThat(answer.status()).isEqualTo(200);
        // The webhook takes 10 s per attempt; the answer does not wait for it.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        eventually(() -> assertThat(scrape(managementPort))
                .containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"audit-slow\"[^}]*outcome=\"timeout\"[^}]*} 2")
                .containsPattern(dropped("audit-slow", "attempts_exhausted", "[1-9]")));
    }

    @Test
    void downWebhookDoesNotFailTheNotificationAndTheDropIsCounted() {
        Answer answer = gateway.post("/v1/account_validity/on_user_registration", "{\"user\": \"@gina:example.com\"}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json(NOTHING));
        onlyRecordAbout("@gina:example.com");  // the chain went on: audit-trail reported it
        eventually(() -> assertThat(scrape(managementPort))
                .containsPattern(dropped("audit-down", "attempts_exhausted", "[1-9]"))
                .containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"audit-down\"[^}]*outcome=\"error\"[^}]*} [1-9]")
                .containsPattern("policy_module_seconds_count\\{[^}]*callback=\"on_user_registration\"[^}]*module=\"after\"[^}]*} [1-9]"));
    }

    @Test
    void deliveriesQueueDepthAndDropsAreOnThePrometheusEndpoint() {
        gateway.post("/v1/third_party_rules/on_threepid_bind",
                "{\"user_id\": \"@hugo:example.com\", \"medium\": \"email\", \"address\": \"hugo@example.com\"}");
        onlyRecordAbout("@hugo:example.com");

        eventually(() -> assertThat(scrape(managementPort))
                .containsPattern("policy_module_audit_delivered_total\\{[^}]*module=\"audit-trail\"[^}]*} [1-9]")
                .containsPattern("policy_module_audit_queued\\{[^}]*module=\"audit-trail\"[^}]*} \\d")
                .containsPattern(dropped("audit-trail", "queue_full", "0"))
                .containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"audit-trail\"[^}]*outcome=\"success\"[^}]*} [1-9]"));
    }

    @Test
    void notificationCallbacksAreListedForDiscovery() {
        assertThat(gateway.get("/v1/callbacks").body())
                .contains("on_account_data_updated", "on_new_event", "on_logged_out", "on_user_login");
    }

    private static String dropped(String module, String reason, String count) {
        return "policy_module_audit_dropped_total\\{[^}]*module=\"" + module + "\"[^}]*reason=\"" + reason + "\"[^}]*} " + count;
    }

    /** The one record the webhook received that mentions the user (tests use distinct users). */
    private static LoggedRequest onlyRecordAbout(String userId) {
        List<LoggedRequest> requests = new ArrayList<>();
        eventually(() -> {
            requests.clear();
            requests.addAll(webhook.findAll(postRequestedFor(urlEqualTo("/audit")).withRequestBody(containing(userId))));
            assertThat(requests).hasSize(1);
        });
        return requests.getFirst();
    }
}
