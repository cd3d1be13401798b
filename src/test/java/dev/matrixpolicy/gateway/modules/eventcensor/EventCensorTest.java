package dev.matrixpolicy.gateway.modules.eventcensor;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.WorstCase;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.system.CapturedOutput;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The module against a stand-in censor: which events are sent, and how replies and failures are answered. */
@ExtendWith(ExpectedOutput.class)
class EventCensorTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String LOCAL_EVENT = """
            {"event_id": "$local", "sender": "@alice:example.com", "room_id": "!room:example.com",
             "type": "m.room.message", "content": {"msgtype": "m.text", "body": "darn it"}, "unsigned": {"age": 5}}""";
    private static final String REMOTE_EVENT = LOCAL_EVENT.replace("@alice:example.com", "@mallory:example.org");

    @RegisterExtension
    static final WireMockExtension censor = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private EventCensor module;

    @AfterEach
    void close() {
        if (module != null) {
            module.close();
        }
    }

    @Test
    void localEventIsSentInClientFormatAndANewContentReplacesOnlyTheContent() {
        censor.stubFor(post("/censor").willReturn(okJson("{\"content\": {\"msgtype\": \"m.text\", \"body\": \"**** it\"}}")));

        EventAllowed answer = censor(FailureMode.FAIL_OPEN, false).checkEventAllowed(args(LOCAL_EVENT));

        ObjectNode expected = (ObjectNode) JSON.readTree(LOCAL_EVENT);
        expected.set("content", JSON.readTree("{\"msgtype\": \"m.text\", \"body\": \"**** it\"}"));
        assertThat(answer).isEqualTo(EventAllowed.replacedBy(expected));
        censor.verify(postRequestedFor(urlEqualTo("/censor")).withHeader("Content-Type", equalTo("application/json"))
                .withRequestBody(equalToJson(LOCAL_EVENT)));
    }

    @Test
    void unchangedContentIsAPlainAllowanceSoTheChainGoesOn() {
        censor.stubFor(post("/censor").willReturn(okJson("{\"content\": {\"msgtype\": \"m.text\", \"body\": \"darn it\"}}")));

        assertThat(censor(FailureMode.FAIL_CLOSED, false).checkEventAllowed(args(LOCAL_EVENT))).isEqualTo(EventAllowed.ALLOWED);
    }

    @Test
    void censorDenialDeniesTheEvent() {
        censor.stubFor(post("/censor").willReturn(okJson("{\"allowed\": false}")));

        assertThat(censor(FailureMode.FAIL_OPEN, false).checkEventAllowed(args(LOCAL_EVENT))).isEqualTo(EventAllowed.DENIED);
    }

    @Test
    void remoteEventIsAllowedWithoutAskingTheCensor() {
        assertThat(censor(FailureMode.FAIL_CLOSED, false).checkEventAllowed(args(REMOTE_EVENT))).isEqualTo(EventAllowed.ALLOWED);

        censor.verify(0, postRequestedFor(urlEqualTo("/censor")));
    }

    /**
     * An appservice registers any localpart, {@code irc_a:b} included; Synapse reads that user's server
     * as {@code b:example.com} ({@code get_domain_from_id}), and so does the module, without failing.
     */
    @Test
    void aSenderWhoseLocalpartHoldsAColonIsOfTheServerSynapseReads() {
        String appserviceEvent = LOCAL_EVENT.replace("@alice:example.com", "@irc_a:b:example.com");

        assertThat(censor(FailureMode.FAIL_CLOSED, false).checkEventAllowed(args(appserviceEvent))).isEqualTo(EventAllowed.ALLOWED);
        censor.verify(0, postRequestedFor(urlEqualTo("/censor")));
    }

    @Test
    void includedRemoteEventCanBeDeniedButNotReplacedBecauseSynapseIgnoresThat() {
        EventCensor includingRemote = censor(FailureMode.FAIL_CLOSED, true);
        censor.stubFor(post("/censor").willReturn(okJson("{\"content\": {\"body\": \"****\"}}")));
        assertThat(includingRemote.checkEventAllowed(args(REMOTE_EVENT))).isEqualTo(EventAllowed.ALLOWED);

        censor.stubFor(post("/censor").willReturn(okJson("{\"allowed\": false}")));
        assertThat(includingRemote.checkEventAllowed(args(REMOTE_EVENT))).isEqualTo(EventAllowed.DENIED);
    }

    @Test
    void refusedConnectionAllowsWhenFailingOpenAndDeniesWhenFailingClosed() {
        URI down = URI.create("http://127.0.0.1:" + unusedPort() + "/censor");

        assertThat(censor(down, Duration.ofSeconds(5), FailureMode.FAIL_OPEN).checkEventAllowed(args(LOCAL_EVENT)))
                .isEqualTo(EventAllowed.ALLOWED);
        module.close();
        assertThat(censor(down, Duration.ofSeconds(5), FailureMode.FAIL_CLOSED).checkEventAllowed(args(LOCAL_EVENT)))
                .isEqualTo(EventAllowed.DENIED);
        assertThat(meters.get("policy.module.backend").tag("outcome", "error").timer().count()).isEqualTo(2);
    }

    @Test
    void serverErrorAndUnreadableRepliesApplyTheFailureMode() {
        EventCensor closed = censor(FailureMode.FAIL_CLOSED, false);
        for (var reply : List.of(aResponse().withStatus(500).withBody("{\"content\": {}}"), okJson("not json"),
                okJson("{\"content\": \"****\"}"), aResponse().withStatus(204))) {
            censor.stubFor(post("/censor").willReturn(reply));
            assertThat(closed.checkEventAllowed(args(LOCAL_EVENT))).isEqualTo(EventAllowed.DENIED);
        }
        assertThat(meters.get("policy.module.backend").tag("module", "censor").tag("outcome", "error").timer().count()).isEqualTo(4);
    }

    @Test
    void newContentSynapseWouldRefuseWithA500IsUnusableAndAnsweredByTheFailureMode(CapturedOutput output) {
        EventCensor closed = censor(FailureMode.FAIL_CLOSED, false);
        String member = event("m.room.member", "\"state_key\": \"@alice:example.com\"", "{\"membership\": \"join\", \"displayname\": \"darn\"}");
        String topic = event("m.room.topic", "\"state_key\": \"\"", "{\"topic\": \"darn\"}");
        String tombstone = event("m.room.tombstone", "\"state_key\": \"\"", "{\"replacement_room\": \"!new:example.com\", \"body\": \"darn\"}");
        String redaction = event("m.room.redaction", "\"redacts\": \"$spam\"", "{\"redacts\": \"$spam\", \"reason\": \"darn\"}");
        for (String[] refused : new String[][] {{LOCAL_EVENT, "{}"}, {LOCAL_EVENT, "{\"msgtype\": \"m.text\", \"body\": null}"},
                {LOCAL_EVENT, "{\"body\": \"****\"}"}, {member, "{\"displayname\": \"****\"}"},
                {member, "{\"membership\": [\"join\"], \"displayname\": \"****\"}"}, {topic, "{\"topic\": 5}"},
                {tombstone, "{\"body\": \"****\"}"}, {tombstone, "{\"replacement_room\": \"!room:example.com\", \"body\": \"****\"}"},
                {redaction, "{\"reason\": \"****\"}"}, {redaction, "{\"redacts\": \"$other\", \"reason\": \"****\"}"}}) {
            censor.stubFor(post("/censor").willReturn(okJson("{\"content\": " + refused[1] + "}")));
            assertThat(closed.checkEventAllowed(args(refused[0]))).as(refused[1]).isEqualTo(EventAllowed.DENIED);
        }
        assertThat(meters.get("policy.module.backend").tag("module", "censor").tag("outcome", "error").timer().count()).isEqualTo(10);
        assertThat(output.getAll().lines().filter(line -> line.contains("WARN")).findFirst()).get().asString()
                .contains("unusable answer: the new content of an m.room.message event has no string 'msgtype', and Synapse would end "
                        + "the user's request in a 500").contains("failing closed: event denied");

        for (String[] accepted : new String[][] {{member, "{\"membership\": \"join\", \"displayname\": \"****\"}"},
                {tombstone, "{\"replacement_room\": \"!new:example.com\", \"body\": \"****\"}"},
                {redaction, "{\"redacts\": \"$spam\", \"reason\": \"****\"}"}, {LOCAL_EVENT, "{\"msgtype\": \"m.text\", \"body\": \"****\"}"}}) {
            censor.stubFor(post("/censor").willReturn(okJson("{\"content\": " + accepted[1] + "}")));
            assertThat(closed.checkEventAllowed(args(accepted[0])).replacement()).as(accepted[1]).isPresent();
        }
    }

    @Test
    void slowCensorTimesOutAndIsCountedAsATimeout() {
        censor.stubFor(post("/censor").willReturn(okJson("{\"allowed\": false}").withFixedDelay(5_000)));
        EventCensor impatient = censor(URI.create(censor.baseUrl() + "/censor"), Duration.ofMillis(500), FailureMode.FAIL_OPEN);

        assertThat(impatient.checkEventAllowed(args(LOCAL_EVENT))).isEqualTo(EventAllowed.ALLOWED);
        assertThat(meters.get("policy.module.backend").tag("outcome", "timeout").timer().count()).isEqualTo(1);
    }

    @Test
    void replyOverTheDefaultLimitIsABackendFailureAndOneWarnLineNamesTheLimitNotTheUrl(CapturedOutput output) {
        censor.stubFor(post(urlPathEqualTo("/censor")).willReturn(okJson("{\"content\": {\"body\": \"" + "x".repeat(1024 * 1024) + "\"}}")));
        EventCensor closed = censor(URI.create(censor.baseUrl() + "/censor?key=s3cr3t"), Duration.ofSeconds(5), FailureMode.FAIL_CLOSED);

        assertThat(closed.checkEventAllowed(args(LOCAL_EVENT))).isEqualTo(EventAllowed.DENIED);
        assertThat(meters.get("policy.module.backend").tag("module", "censor").tag("outcome", "error").timer().count()).isEqualTo(1);
        assertThat(output.getAll().lines().filter(line -> line.contains("WARN")).toList()).singleElement().asString()
                .contains("Module censor: check_event_allowed failed after 1 attempt").contains("max-reply-size 1MB")
                .contains("failing closed: event denied").doesNotContain("s3cr3t").doesNotContain("/censor");
    }

    @Test
    void failedCallIsOneWarnLineNamingModuleCallbackCauseAndAnswer(CapturedOutput output) {
        censor.stubFor(post("/censor").willReturn(aResponse().withStatus(500)));

        censor(FailureMode.FAIL_OPEN, false).checkEventAllowed(args(LOCAL_EVENT));

        assertThat(output.getAll().lines().filter(line -> line.contains("WARN")).toList()).singleElement().asString()
                .contains("Module censor: check_event_allowed failed after 1 attempt (HTTP 500); failing open: event allowed uncensored")
                .doesNotContain("$local");
    }

    @Test
    void worstCaseIsConnectingThenWaitingForTheAnswerOnce() {
        EventCensor module = censor(URI.create(censor.baseUrl() + "/censor"), Duration.ofMillis(1500), FailureMode.FAIL_OPEN);

        assertThat(module.worstCase()).contains(new WorstCase(Duration.ofMillis(3500), "connect-timeout 2s + timeout 1500ms"));
    }

    private EventCensor censor(FailureMode failureMode, boolean includeRemoteEvents) {
        return censor(URI.create(censor.baseUrl() + "/censor"), failureMode, includeRemoteEvents, Duration.ofSeconds(5));
    }

    private EventCensor censor(URI endpoint, Duration timeout, FailureMode failureMode) {
        return censor(endpoint, failureMode, false, timeout);
    }

    private EventCensor censor(URI endpoint, FailureMode failureMode, boolean includeRemoteEvents, Duration timeout) {
        module = new EventCensor(new EventCensorConfig(endpoint, timeout, Duration.ofSeconds(2), Backend.DEFAULT_MAX_REPLY_SIZE, failureMode, includeRemoteEvents),
                new ModuleContext("censor", "example.com", meters));
        return module;
    }

    /** A local event of this type, with these extra top-level fields, and this content. */
    private static String event(String type, String fields, String content) {
        return "{\"event_id\": \"$local\", \"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"type\": \""
                + type + "\", " + fields + ", \"content\": " + content + "}";
    }

    private static CheckEventAllowed.Args args(String event) {
        return new CheckEventAllowed.Args(new ClientEvent((ObjectNode) JSON.readTree(event)), List.of());
    }
}
