package dev.matrixpolicy.gateway.modules.threepidchecker;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code is_3pid_allowed} over real HTTP through a chain of four checkers (application-threepid.yml):
 * {@code threepid-open} (fail-open) and {@code threepid-closed} (fail-closed) ask a WireMock backend,
 * {@code threepid-down-open} and {@code threepid-down-closed} (registration only) ask a dead port.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("threepid")
class ThreepidCheckerEndToEndTest extends GatewayEndToEnd {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed after");

    private static final String PATH = "/v1/password_auth_provider/is_3pid_allowed";
    private static final String OURS = "{\"hs\": \"example.com\"}";

    @RegisterExtension
    static final WireMockExtension backend = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    @DynamicPropertySource
    static void backends(DynamicPropertyRegistry registry) {
        registry.add("threepid.backend", backend::baseUrl);
        registry.add("threepid.dead-backend", () -> "http://127.0.0.1:" + unusedPort());
    }

    ThreepidCheckerEndToEndTest() {
        super("threepid-token");
    }

    @Test
    void threepidIsAllowedWhenEveryBackendNamesOurServer() {
        backendsAnswer(okJson(OURS), okJson(OURS));

        assertThat(ask("email", "happy@example.org", false)).isTrue();
        backend.verify(getRequestedFor(urlEqualTo("/open?realm=e2e&medium=email&address=happy%40example.org")));
        backend.verify(getRequestedFor(urlEqualTo("/closed?medium=email&address=happy%40example.org")));
    }

    @Test
    void threepidIsDeniedWhenABackendRequiresAnInviteThatIsNotPending() {
        backendsAnswer(okJson(OURS), okJson("{\"hs\": \"example.com\", \"requires_invite\": true}"));

        assertThat(ask("email", "uninvited@example.org", false)).isFalse();
        assertThat(scrape(managementPort)).containsPattern(
                "policy_decisions_total\\{[^}]*callback=\"is_3pid_allowed\"[^}]*module=\"threepid-closed\"[^}]*outcome=\"deny\"[^}]*} [1-9]");
    }

    @Test
    void threepidIsDeniedWhenABackendNamesAnotherServer() {
        backend.stubFor(get(urlPathEqualTo("/open")).willReturn(okJson("{\"hs\": \"matrix.org\"}")));

        assertThat(ask("msisdn", "447700900123", false)).isFalse();
        backend.verify(0, getRequestedFor(urlPathEqualTo("/closed")));
    }

    @Test
    void addressWithPlusAtSpaceAndNonAsciiArrivesAtTheBackendUnchanged() {
        backendsAnswer(okJson(OURS), okJson(OURS));
        String address = "zoë+tag @bücher.example";

        assertThat(ask("email", address, false)).isTrue();
        backend.verify(getRequestedFor(urlPathEqualTo("/closed")).withQueryParam("address", equalTo(address)));
    }

    @Test
    void slowBackendOnAFailOpenCheckerLetsTheRestOfTheChainDecide() {
        backendsAnswer(okJson(OURS).withFixedDelay(6_000), okJson(OURS));

        assertThat(ask("email", "slow-open@example.org", false)).isTrue();
        assertBackendCalls("threepid-open", "timeout");
    }

    @Test
    void slowBackendOnAFailClosedCheckerDenies() {
        backendsAnswer(okJson(OURS), okJson(OURS).withFixedDelay(6_000));

        assertThat(ask("email", "slow-closed@example.org", false)).isFalse();
        assertBackendCalls("threepid-closed", "timeout");
    }

    @Test
    void downBackendOnAFailOpenCheckerIsCountedAndAllows() {
        backendsAnswer(okJson(OURS), okJson(OURS));

        assertThat(ask("email", "down-open@example.org", false)).isTrue();
        assertBackendCalls("threepid-down-open", "error");
    }

    @Test
    void downBackendOnAFailClosedCheckerDeniesAtRegistration() {
        backendsAnswer(okJson(OURS), okJson(OURS));

        assertThat(ask("email", "down-closed@example.org", true)).isFalse();
        assertBackendCalls("threepid-down-closed", "error");
    }

    @Test
    void cachedVerdictIsReusedAndCacheMetricsAreExposed() {
        backendsAnswer(okJson(OURS), okJson(OURS));

        ask("email", "cached@example.org", false);
        ask("email", "cached@example.org", false);

        backend.verify(2, getRequestedFor(urlPathEqualTo("/open")));   // cache-ttl: 0
        backend.verify(1, getRequestedFor(urlPathEqualTo("/closed")));
        String metrics = scrape(managementPort);
        assertThat(metrics).containsPattern("cache_gets_total\\{[^}]*cache=\"threepid-closed\"[^}]*result=\"hit\"[^}]*} [1-9]");
        assertThat(metrics).containsPattern("cache_size\\{[^}]*cache=\"threepid-closed\"");
        assertThat(metrics).doesNotContain("cache=\"threepid-open\"");
        assertThat(metrics).containsPattern(
                "policy_module_backend_seconds_count\\{[^}]*module=\"threepid-closed\"[^}]*outcome=\"success\"[^}]*} [1-9]");
    }

    private static void backendsAnswer(ResponseDefinitionBuilder open, ResponseDefinitionBuilder closed) {
        backend.stubFor(get(urlPathEqualTo("/open")).willReturn(open));
        backend.stubFor(get(urlPathEqualTo("/closed")).willReturn(closed));
    }

    private void assertBackendCalls(String module, String outcome) {
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"" + module
                + "\"[^}]*outcome=\"" + outcome + "\"[^}]*} [1-9]");
    }

    private boolean ask(String medium, String address, boolean registration) {
        Answer answer = gateway.post(PATH, "{\"medium\": \"" + medium + "\", \"address\": \"" + address
                + "\", \"registration\": " + registration + "}");
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json().get("result").booleanValue();
    }
}
