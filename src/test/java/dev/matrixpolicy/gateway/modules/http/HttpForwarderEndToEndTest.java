package dev.matrixpolicy.gateway.modules.http;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The gateway's http modules (application-http.yml) forwarding to a WireMock service that answers
 * in the gateway's own contract, over real HTTP at both ends.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("http")
class HttpForwarderEndToEndTest extends GatewayEndToEnd {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed after", "circuit breaker opened", "who has no update in the batch");

    private static final String INVITE = "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}";
    private static final String JOIN = "{\"user\": \"@alice:example.com\", \"room\": \"!room:example.com\", \"is_invited\": false}";
    private static final String EVENT = "{\"event\": " + Fixtures.MESSAGE_EVENT + "}";
    private static final String EVENT_WITH_STATE = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}";
    private static final String ROOM = "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}";
    /** Started before the context reads its URL, reset before each test, stopped after the class. */
    @RegisterExtension
    static final WireMockExtension backend = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    @DynamicPropertySource
    static void backendUrls(DynamicPropertyRegistry registry) {
        registry.add("policy-backend.url", backend::baseUrl);
        registry.add("policy-backend.down-url", () -> "http://127.0.0.1:" + unusedPort());
    }

    HttpForwarderEndToEndTest() {
        super("http-token");
    }

    @Test
    void spamVerdictIsForwardedWithTheSameContractAndTheServiceToken() {
        backend.stubFor(post("/remote/spam_checker/user_may_invite").willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));

        Answer answer = gateway.post("/v1/spam_checker/user_may_invite", INVITE);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
        backend.verify(postRequestedFor(urlEqualTo("/remote/spam_checker/user_may_invite"))
                .withHeader("Authorization", equalTo("Bearer remote-secret"))
                .withHeader("Content-Type", equalTo("application/json"))
                .withRequestBody(equalToJson(INVITE)));
    }

    @Test
    void rejectionAnsweredWith403IsRelayedWithItsErrcodeAndMessage() {
        backend.stubFor(post("/remote/spam_checker/user_may_invite").willReturn(aResponse().withStatus(403)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too many invites\"}")));

        Answer answer = gateway.post("/v1/spam_checker/user_may_invite", INVITE);

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too many invites\"}"));
    }

    @Test
    void booleanOptionalStringAndAuthCheckerAnswersAreReadByTheirResultTypes() {
        backend.stubFor(post("/remote/third_party_rules/check_can_shutdown_room").willReturn(okJson("{\"result\": false}")));
        backend.stubFor(post("/remote/password_auth_provider/get_username_for_registration")
                .willReturn(okJson("{\"result\": \"carol\"}")));
        backend.stubFor(post("/remote/password_auth_provider/check_auth").willReturn(okJson("{\"result\": \"@alice:example.com\"}")));

        assertThat(gateway.post("/v1/third_party_rules/check_can_shutdown_room", ROOM).json())
                .isEqualTo(GatewayClient.json("{\"result\": false}"));
        assertThat(gateway.post("/v1/password_auth_provider/get_username_for_registration",
                "{\"uia_results\": {\"m.login.dummy\": true}, \"params\": {\"username\": \"c\"}}").json())
                .isEqualTo(GatewayClient.json("{\"result\": \"carol\"}"));
        assertThat(gateway.post("/v1/password_auth_provider/check_auth",
                "{\"user\": \"alice\", \"login_type\": \"org.example.sso\", \"login_dict\": {\"sso_token\": \"t0k3n\"}}").json())
                .isEqualTo(GatewayClient.json("{\"result\": \"@alice:example.com\"}"));
    }

    @Test
    void checkEventAllowedWithAReplacementEventIsRelayed() {
        backend.stubFor(post("/remote/third_party_rules/check_event_allowed").willReturn(okJson(
                "{\"result\": {\"allowed\": true, \"replacement\": {\"type\": \"m.room.message\", \"content\": {\"body\": \"***\"}}}}")));

        Answer answer = gateway.post("/v1/third_party_rules/check_event_allowed", EVENT_WITH_STATE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json(
                "{\"result\": {\"allowed\": true, \"replacement\": {\"type\": \"m.room.message\", \"content\": {\"body\": \"***\"}}}}"));
        backend.verify(postRequestedFor(urlEqualTo("/remote/third_party_rules/check_event_allowed"))
                .withRequestBody(equalToJson(EVENT_WITH_STATE)));
    }

    /**
     * An event nested 30,000 deep (as Synapse on Python 3.14 takes one) goes to the service as it came,
     * and the service's replacement, as deep, back to the homeserver: nothing on the way recurses.
     */
    @Test
    void anEventNestedAsDeepAsSixtyFourKibibytesGoIsForwardedAndItsReplacementRelayed() {
        String deep = "[".repeat(30_000) + "{}" + "]".repeat(30_000);
        String event = Fixtures.MESSAGE_EVENT.replace("\"content\": {", "\"content\": {\"org.example.deep\": " + deep + ", ");
        String replacement = "{\"result\": {\"allowed\": true, \"replacement\": {\"type\": \"m.room.message\", "
                + "\"content\": {\"body\": \"***\", \"org.example.deep\": " + deep + "}}}}";
        backend.stubFor(post("/remote/third_party_rules/check_event_allowed").willReturn(okJson(replacement)));

        Answer answer = gateway.post("/v1/third_party_rules/check_event_allowed", "{\"event\": " + event + ", \"state_events\": []}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(compact(answer.body())).isEqualTo(compact(replacement));
        String forwarded = backend.getAllServeEvents().getFirst().getRequest().getBodyAsString();
        assertThat(compact(forwarded)).contains("\"org.example.deep\":" + compact(deep));
    }

    /** The JSON text without insignificant white space, written as the gateway writes it. */
    private static String compact(String json) {
        return EventJson.MAPPER.writeValueAsString(EventJson.MAPPER.readTree(json));
    }

    @Test
    void notificationIsDeliveredOnceWithItsArguments() {
        backend.stubFor(post("/remote/third_party_rules/on_new_event").willReturn(okJson("{\"result\": null}")));

        Answer answer = gateway.post("/v1/third_party_rules/on_new_event", EVENT_WITH_STATE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        backend.verify(1, postRequestedFor(urlEqualTo("/remote/third_party_rules/on_new_event"))
                .withRequestBody(equalToJson(EVENT_WITH_STATE)));
    }

    @Test
    void questionIsRetriedAfterAServerErrorAndTheRetryAnswers() {
        backend.stubFor(post("/remote/spam_checker/user_may_join_room").inScenario("flaky").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(502)).willSetStateTo("recovered"));
        backend.stubFor(post("/remote/spam_checker/user_may_join_room").inScenario("flaky").whenScenarioStateIs("recovered")
                .willReturn(aResponse().withStatus(403).withBody("{\"errcode\": \"M_FORBIDDEN\", \"error\": \"No joining\"}")));

        Answer answer = gateway.post("/v1/spam_checker/user_may_join_room", JOIN);

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("error").asString()).isEqualTo("No joining");
        backend.verify(2, postRequestedFor(urlEqualTo("/remote/spam_checker/user_may_join_room")));
    }

    @Test
    void notificationIsNotRetriedAfterAServerError() {
        backend.stubFor(post("/remote/third_party_rules/on_new_event").willReturn(aResponse().withStatus(503)));

        Answer answer = gateway.post("/v1/third_party_rules/on_new_event", EVENT_WITH_STATE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        backend.verify(1, postRequestedFor(urlEqualTo("/remote/third_party_rules/on_new_event")));
    }

    @Test
    void failClosedServiceThatResetsConnectionsDeniesWithMUnknownAfterItsRetry() {
        backend.stubFor(post("/remote/spam_checker/user_may_invite").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

        Answer answer = gateway.post("/v1/spam_checker/user_may_invite", INVITE);

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
        backend.verify(2, postRequestedFor(urlEqualTo("/remote/spam_checker/user_may_invite")));
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"remote\",outcome=\"error\"} [1-9]");
    }

    @Test
    void failClosedDenialOfAQuestionWithoutRejectionsIsItsFalseAnswer() {
        backend.stubFor(post("/remote/third_party_rules/check_can_shutdown_room").willReturn(okJson("{\"result\": \"maybe\"}")));

        assertThat(gateway.post("/v1/third_party_rules/check_can_shutdown_room", ROOM).json())
                .isEqualTo(GatewayClient.json("{\"result\": false}"));
        backend.verify(1, postRequestedFor(urlEqualTo("/remote/third_party_rules/check_can_shutdown_room")));
    }

    @Test
    void aPresenceRouterRoutingTheBatchsOwnUsersIsServedAndOneMakingUpAnotherUsersPresenceFailsItsEntry(CapturedOutput captured) {
        String batch = "{\"state_updates\": [{\"user_id\": \"@bob:example.com\", \"state\": \"online\"}]}";
        String routed = "{\"result\": {\"@alice:example.com\": [{\"user_id\": \"@bob:example.com\", \"state\": \"unavailable\"}]}}";
        backend.stubFor(post("/remote/presence_router/get_users_for_states").willReturn(okJson(routed)));

        Answer served = gateway.post("/v1/presence_router/get_users_for_states", batch);

        assertThat(served.status()).isEqualTo(200);
        assertThat(served.json()).isEqualTo(GatewayClient.json(routed));

        backend.stubFor(post("/remote/presence_router/get_users_for_states").willReturn(okJson(
                "{\"result\": {\"@alice:example.com\": [{\"user_id\": \"@bob:example.com\", \"state\": \"online\"}, "
                        + "{\"user_id\": \"@mallory:example.com\", \"state\": \"online\"}]}}")));

        Answer madeUp = gateway.post("/v1/presence_router/get_users_for_states", batch);

        assertThat(madeUp.status()).isEqualTo(503);
        assertThat(madeUp.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
        assertThat(madeUp.body()).doesNotContain("mallory");
        assertThat(captured.getAll()).contains("presence state of @mallory:example.com for @alice:example.com, who has no update in the batch");
    }

    @Test
    void failOpenServiceThatIsDownAbstainsAndTheNextModuleDecides() {
        Answer answer = gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@alice:example.com\"}");

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("error").asString()).isEqualTo("Refused by after");
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"lenient\",outcome=\"error\"} [1-9]");
    }

    @Test
    void perCallbackTimeoutCutsThatCallbackShortWhileOthersKeepTheDefault() {
        backend.stubFor(post("/remote/spam_checker/check_event_for_spam")
                .willReturn(okJson("{\"result\": \"NOT_SPAM\"}").withFixedDelay(1_500)));
        backend.stubFor(post("/remote/third_party_rules/check_can_shutdown_room")
                .willReturn(okJson("{\"result\": true}").withFixedDelay(1_000)));

        Answer slowSpamCheck = gateway.post("/v1/spam_checker/check_event_for_spam", EVENT);
        Answer slowButPatient = gateway.post("/v1/third_party_rules/check_can_shutdown_room", ROOM);

        assertThat(slowSpamCheck.status()).isEqualTo(403);
        assertThat(slowSpamCheck.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
        assertThat(slowButPatient.json()).isEqualTo(GatewayClient.json("{\"result\": true}"));
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"remote\",outcome=\"timeout\"} [1-9]");
    }

    @Test
    void circuitOpensAfterFailuresAndThenAnswersWithoutAskingTheService() {
        backend.stubFor(post("/fragile/spam_checker/user_may_publish_room").willReturn(aResponse().withStatus(500)));
        for (int i = 0; i < 4; i++) {
            assertThat(gateway.post("/v1/spam_checker/user_may_publish_room", ROOM).status()).isEqualTo(403);
        }

        Answer shortCircuited = gateway.post("/v1/spam_checker/user_may_publish_room", ROOM);

        assertThat(shortCircuited.status()).isEqualTo(403);
        assertThat(shortCircuited.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
        backend.verify(4, postRequestedFor(urlEqualTo("/fragile/spam_checker/user_may_publish_room")));
        assertThat(scrape(managementPort)).containsPattern("resilience4j_circuitbreaker_state\\{[^}]*name=\"fragile\",state=\"open\"} 1")
                .containsPattern("resilience4j_circuitbreaker_not_permitted_calls_total\\{[^}]*name=\"fragile\"} [1-9]");
    }
}
