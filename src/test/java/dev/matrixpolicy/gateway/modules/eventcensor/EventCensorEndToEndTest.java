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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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

    /** A replacement Synapse 1.157 refuses, with the status the user would get, and what the WARN line says. */
    static Stream<Arguments> replacementsSynapseRefuses() {
        String message = "\"msgtype\": \"m.text\", \"body\": \"****\"";
        return Stream.of(
                Arguments.of("float in a strict room", censorRequest(message("{" + message + ", \"score\": 0.5}"), "10"), 400, "holds a float"),
                Arguments.of("float, room version unknown", censorRequest(message("{" + message + ", \"score\": 0.5}"), null), 400, "holds a float"),
                Arguments.of("integer beyond 2^53-1", censorRequest(message("{" + message + ", \"n\": 9007199254740992}"), "6"), 400,
                        "an integer beyond"),
                Arguments.of("event over 64 KiB", censorRequest(message("{\"msgtype\": \"m.text\", \"body\": \"" + "*".repeat(65_500) + "\"}"), "10"),
                        413, "over Synapse's limit of 65536"),
                Arguments.of("string power level", censorRequest(state("m.room.power_levels", "{\"users\": {\"@alice:example.com\": \"100\"}}"), "10"),
                        400, "'users' that is not an object of integers"),
                Arguments.of("power level of a non-user", censorRequest(state("m.room.power_levels", "{\"users\": {\"alice\": 100}}"), "5"), 400,
                        "not a user ID"),
                Arguments.of("power level of a creator", censorRequest(state("m.room.power_levels", "{\"users\": {\"@alice:example.com\": 100}}"), "12"),
                        400, "gives a room creator a level"),
                Arguments.of("m.mentions of non-strings", censorRequest(message("{" + message + ", \"m.mentions\": {\"user_ids\": [1]}}"), "10"), 400,
                        "'m.mentions.user_ids' that is not a list of strings"),
                Arguments.of("ACL denying this server", censorRequest(state("m.room.server_acl", "{\"allow\": [\"*\"], \"deny\": [\"*.COM\"]}"), "10"),
                        400, "denies this server, example.com"),
                Arguments.of("ACL not allowing this server", censorRequest(state("m.room.server_acl", "{\"allow\": [\"example.org\"]}"), "10"), 400,
                        "denies this server"),
                Arguments.of("retention minimum over maximum", censorRequest(state("m.room.retention", "{\"min_lifetime\": 10, \"max_lifetime\": 5}"), "10"),
                        400, "'min_lifetime' over 'max_lifetime'"),
                Arguments.of("annotation without key", censorRequest(event("m.reaction", "", "{\"m.relates_to\": {\"rel_type\": \"m.annotation\", "
                        + "\"event_id\": \"$liked\"}}"), "10"), 400, "an annotation without a string 'key'"),
                Arguments.of("alias over 255 characters", censorRequest(state("m.room.aliases", "{\"aliases\": [\"#" + "a".repeat(250) + ":example.com\"]}"),
                        "10"), 400, "an alias longer than 255 characters"),
                Arguments.of("aliases a number", censorRequest(state("m.room.aliases", "{\"aliases\": 5}"), "10"), 500,
                        "'aliases' that is not a list"),
                Arguments.of("alias a number", censorRequest(state("m.room.aliases", "{\"aliases\": [\"#a:example.com\", null]}"), "10"), 500,
                        "an alias that is not a string"));
    }

    /**
     * Their reasons are logged at WARN once per 10 s of failures, so {@link SynapseRefusalsTest} checks
     * the reason and status of each case; here, that the gateway answers them as failed censor calls.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("replacementsSynapseRefuses")
    void replacementsSynapseRefusesAreCensorFailuresSoFailingOpenAllowsTheEventUnchanged(String name, String[] request) {
        backend.stubFor(post("/censor").willReturn(okJson("{\"content\": " + request[1] + "}")));
        backend.stubFor(post("/strict").willReturn(okJson("{}")));

        Answer answer = gateway.post(PATH, request[0]);

        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": {\"allowed\": true, \"replacement\": null}}"));
        assertThat(scrape(managementPort)).containsPattern("policy_module_backend_seconds_count\\{[^}]*module=\"censor\",outcome=\"error\"} [1-9]");
    }

    @Test
    void replacementsSynapseTakesAreStillAnswered() {
        backend.stubFor(post("/strict").willReturn(okJson("{}")));
        for (String[] request : new String[][] {
                censorRequest(message("{\"msgtype\": \"m.text\", \"body\": \"****\", \"score\": 0.5}"), "5"),
                censorRequest(message("{\"msgtype\": \"m.text\", \"body\": \"****\", \"m.mentions\": {\"user_ids\": \"@bob:example.com\"}}"), "10"),
                censorRequest(state("m.room.power_levels", "{\"users\": {\"@bob:example.com\": 50}, \"ban\": 50.0}"), "5"),
                censorRequest(state("m.room.server_acl", "{\"allow\": [\"*\"], \"deny\": [\"*.org\", 5], \"allow_ip_literals\": false}"), "10"),
                censorRequest(state("m.room.retention", "{\"min_lifetime\": 5, \"max_lifetime\": null}"), "10"),
                censorRequest(state("m.room.aliases", "{\"aliases\": \"#a:example.com\"}"), "10"),
                censorRequest(event("m.reaction", "", "{\"m.relates_to\": {\"rel_type\": \"m.annotation\", \"event_id\": \"$liked\", \"key\": \"+\"}}"),
                        "10")}) {
            backend.stubFor(post("/censor").willReturn(okJson("{\"content\": " + request[1] + "}")));

            Answer answer = gateway.post(PATH, request[0]);

            assertThat(answer.json().at("/result/replacement/content")).as(request[1]).isEqualTo(GatewayClient.json(request[1]));
        }
    }

    /** A local event with its original content: {type, state_key or null, new content}. */
    private static String[] message(String newContent) {
        return new String[] {"m.room.message", null, newContent};
    }

    private static String[] state(String type, String newContent) {
        return new String[] {type, "", newContent};
    }

    private static String[] event(String type, String stateKey, String newContent) {
        return new String[] {type, stateKey.isEmpty() ? null : stateKey, newContent};
    }

    /**
     * The request for the event, in a room of this version (created by alice; no create event in the
     * state when null), and the new content the censor answers.
     */
    private static String[] censorRequest(String[] event, String roomVersion) {
        String json = "{\"event_id\": \"$censored\", \"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"type\": \""
                + event[0] + "\"" + (event[1] == null ? "" : ", \"state_key\": \"" + event[1] + "\"")
                + ", \"origin_server_ts\": 1700000000000, \"content\": {\"original\": true}}";
        String state = roomVersion == null ? "[]" : "[{\"event_id\": \"$create\", \"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", "
                + "\"type\": \"m.room.create\", \"state_key\": \"\", \"content\": {\"room_version\": \"" + roomVersion + "\"}}]";
        return new String[] {"{\"event\": " + json + ", \"state_events\": " + state + "}", event[2]};
    }
}
