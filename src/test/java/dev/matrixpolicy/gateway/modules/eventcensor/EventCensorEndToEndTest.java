package dev.matrixpolicy.gateway.modules.eventcensor;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** check_event_allowed over real HTTP, with two censors (application-censor.yml) in front of a WireMock censor. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("censor")
class EventCensorEndToEndTest extends GatewayEndToEnd {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed after");

    private static final String PATH = "/v1/third_party_rules/check_event_allowed";
    private static final String LOCAL_MESSAGE = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}";
    private static final String REMOTE_MESSAGE = LOCAL_MESSAGE.replace("\"sender\": \"@alice:example.com\"",
            "\"sender\": \"@mallory:example.org\"");
    /** Started before the context reads its URL, reset before each test, stopped after the class. */
    @RegisterExtension
    static final WireMockExtension backend = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    @DynamicPropertySource
    static void backendUrl(DynamicPropertyRegistry registry) {
        registry.add("censor-backend.url", backend::baseUrl);
    }

    EventCensorEndToEndTest() {
        super("censor-token");
    }

    @Test
    void censoredContentReplacesTheEventAndStopsTheChain() {
        backend.stubFor(post("/censor").willReturn(okJson("{\"content\": {\"msgtype\": \"m.text\", \"body\": \"*****\"}}")));

        Answer answer = gateway.post(PATH, LOCAL_MESSAGE);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().at("/result/allowed").asBoolean()).isTrue();
        assertThat(answer.json().at("/result/replacement/content/body").asString()).isEqualTo("*****");
        assertThat(answer.json().at("/result/replacement/event_id").asString()).isEqualTo("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg");
        backend.verify(0, postRequestedFor(urlEqualTo("/strict")));
    }

    @Test
    void censorDenialDeniesTheEvent() {
        backend.stubFor(post("/censor").willReturn(okJson("{\"allowed\": false}")));

        Answer answer = gateway.post(PATH, LOCAL_MESSAGE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": {\"allowed\": false, \"replacement\": null}}"));
    }

    @Test
    void remoteEventSkipsTheLocalOnlyCensorAndReachesTheOneThatIncludesRemoteEvents() {
        backend.stubFor(post("/strict").willReturn(okJson("{}")));

        Answer answer = gateway.post(PATH, REMOTE_MESSAGE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": {\"allowed\": true, \"replacement\": null}}"));
        backend.verify(0, postRequestedFor(urlEqualTo("/censor")));
        backend.verify(1, postRequestedFor(urlEqualTo("/strict")));
    }

    @Test
    void slowCensorFailingOpenLetsTheEventThroughToTheNextCensor() {
        backend.stubFor(post("/censor").willReturn(okJson("{\"allowed\": false}").withFixedDelay(4_000)));
        backend.stubFor(post("/strict").willReturn(okJson("{}")));

        Answer answer = gateway.post(PATH, LOCAL_MESSAGE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": {\"allowed\": true, \"replacement\": null}}"));
        backend.verify(1, postRequestedFor(urlEqualTo("/strict")));
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"censor\",outcome=\"timeout\"} [1-9]");
    }

    @Test
    void downCensorFailingClosedDeniesTheEvent() {
        backend.stubFor(post("/censor").willReturn(okJson("{}")));
        backend.stubFor(post("/strict").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

        Answer answer = gateway.post(PATH, LOCAL_MESSAGE);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": {\"allowed\": false, \"replacement\": null}}"));
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"strict-censor\",outcome=\"error\"} [1-9]")
                .containsPattern("policy_decisions_total\\{[^}]*callback=\"check_event_allowed\"[^}]*module=\"strict-censor\"[^}]*outcome=\"deny\"");
    }

    @Test
    void backendCallsAreTimedPerInstanceAndOutcome() {
        backend.stubFor(post("/censor").willReturn(okJson("{}")));
        backend.stubFor(post("/strict").willReturn(okJson("{}")));

        gateway.post(PATH, LOCAL_MESSAGE);

        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"censor\",outcome=\"success\"} [1-9]")
                .containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"strict-censor\",outcome=\"success\"} [1-9]");
    }
}
