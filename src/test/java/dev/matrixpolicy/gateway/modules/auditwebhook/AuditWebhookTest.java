package dev.matrixpolicy.gateway.modules.auditwebhook;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.serverError;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static dev.matrixpolicy.gateway.modules.auditwebhook.Eventually.eventually;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.JsonBody;
import dev.matrixpolicy.gateway.callbacks.account_data.OnAccountDataUpdated;
import dev.matrixpolicy.gateway.callbacks.account_validity.OnUserRegistration;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.OnLoggedOut;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnThreepidBind;
import dev.matrixpolicy.gateway.chain.RunAll;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.ModuleConfigs;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The module against a real local webhook (WireMock): record shape, retries, queueing and shutdown. */
class AuditWebhookTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("webhook refused", "dropped after", "queue full", "whose queue was full", "records still queued or in flight",
            "could not send a");

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(AuditWebhook.class, Level.INFO);

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String ACCOUNT_DATA = """
            {"user_id": "@alice:example.com", "room_id": "!room:example.com",
             "account_data_type": "org.example.settings", "content": {"theme": "dark"}}""";
    private static final String REGISTRATION = "{\"user\": \"@carol:example.com\"}";

    private static final WireMockServer webhook = new WireMockServer(options().dynamicPort());

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<AuditWebhook> started = new ArrayList<>();

    @BeforeAll
    static void startWebhook() {
        webhook.start();
    }

    @AfterAll
    static void stopWebhook() {
        webhook.stop();
    }

    @BeforeEach
    void answerOk() {
        webhook.resetAll();
        webhook.stubFor(post("/audit").willReturn(ok()));
        webhook.stubFor(post("/hang").willReturn(ok().withFixedDelay(20_000)));
    }

    @AfterEach
    void stopModules() {
        started.forEach(AuditWebhook::close);
    }

    // ---- the record

    @Test
    void accountDataChangeArrivesAsOneRecordWithCallbackCategoryTimestampServerNameAndArguments() {
        AuditWebhook module = start(Map.of());
        Instant before = Instant.now();

        call(module, OnAccountDataUpdated.TYPE, ACCOUNT_DATA);

        JsonNode record = onlyRecord();
        assertThat(record.get("id").asString()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(record.get("callback").asString()).isEqualTo("on_account_data_updated");
        assertThat(record.get("category").asString()).isEqualTo("account_data");
        assertThat(Instant.parse(record.get("timestamp").asString())).isBetween(before, Instant.now());
        assertThat(record.get("server_name").asString()).isEqualTo("example.com");
        assertThat(record.get("arguments")).isEqualTo(JSON.readTree(ACCOUNT_DATA));
        assertThat(record.propertyNames()).containsExactly("id", "callback", "category", "timestamp", "server_name", "arguments");
        LoggedRequest request = webhook.findAll(postRequestedFor(urlEqualTo("/audit"))).getFirst();
        assertThat(request.getHeader("Content-Type")).startsWith("application/json");
        assertThat(request.containsHeader("Authorization")).isFalse();
    }

    @Test
    void plainHttpWebhookGetsTheRecordWithoutAnH2cUpgradeOfferThatAServerMayRefuseItsBodyFor() {
        AuditWebhook module = start(Map.of());

        call(module, OnAccountDataUpdated.TYPE, ACCOUNT_DATA);

        onlyRecord();
        LoggedRequest request = webhook.findAll(postRequestedFor(urlEqualTo("/audit"))).getFirst();
        assertThat(request.containsHeader("Upgrade")).isFalse();
        assertThat(request.containsHeader("HTTP2-Settings")).isFalse();
    }

    @Test
    void logoutRecordHasTheAccessTokenRedacted() {
        AuditWebhook module = start(Map.of());

        call(module, OnLoggedOut.TYPE, "{\"user_id\": \"@alice:example.com\", \"device_id\": \"PHONE\", \"access_token\": \"syt_secret\"}");

        JsonNode record = onlyRecord();
        assertThat(record.get("callback").asString()).isEqualTo("on_logged_out");
        assertThat(record.get("category").asString()).isEqualTo("password_auth_provider");
        assertThat(record.get("arguments")).isEqualTo(JSON.readTree(
                "{\"user_id\": \"@alice:example.com\", \"device_id\": \"PHONE\", \"access_token\": \"<redacted>\"}"));
        assertThat(webhook.getAllServeEvents().getFirst().getRequest().getBodyAsString()).doesNotContain("syt_secret");
    }

    @Test
    void threepidBindRecordCarriesTheThirdPartyIdentifier() {
        AuditWebhook module = start(Map.of());
        String bind = "{\"user_id\": \"@alice:example.com\", \"medium\": \"email\", \"address\": \"alice@example.com\"}";

        call(module, OnThreepidBind.TYPE, bind);

        JsonNode record = onlyRecord();
        assertThat(record.get("category").asString()).isEqualTo("third_party_rules");
        assertThat(record.get("arguments")).isEqualTo(JSON.readTree(bind));
    }

    @Test
    void newEventRecordLeavesOutTheRoomStateByDefault() {
        AuditWebhook module = start(Map.of());

        call(module, OnNewEvent.TYPE, "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}");

        JsonNode arguments = onlyRecord().get("arguments");
        assertThat(arguments.get("event")).isEqualTo(JSON.readTree(Fixtures.MESSAGE_EVENT));
        assertThat(arguments.has("state_events")).isFalse();
    }

    @Test
    void newEventRecordCarriesTheRoomStateWhenAskedTo() {
        AuditWebhook module = start(Map.of("include-state-events", "true"));

        call(module, OnNewEvent.TYPE, "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}");

        assertThat(onlyRecord().get("arguments").get("state_events")).isEqualTo(JSON.readTree(Fixtures.STATE_EVENTS));
    }

    /**
     * Behind a slow webhook, a queue of on_new_event records (on by default) must not hold the room
     * state of each event, which it will never send: in a large room that is far bigger than the event.
     * Read as the API reads a request, the arguments hold the body's bytes, room state included.
     */
    @Test
    void aQueuedNewEventRecordDoesNotHoldTheRoomStateItWillNotSend() throws InterruptedException {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s"));
        call(module, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));

        List<WeakReference<?>> state = offerNewEvent(module);
        for (int i = 0; i < 10 && state.stream().anyMatch(reference -> reference.get() != null); i++) {
            System.gc();
            Thread.sleep(20);
        }

        assertThat(registry.get("policy.module.audit.queued").tag("module", "audit").gauge().value()).isEqualTo(1);
        assertThat(state).as("the room state of the queued record, and the request body it was read from")
                .allSatisfy(reference -> assertThat(reference.get()).isNull());
    }

    /** Offers an on_new_event call read as the API reads it; keeps only weak references to its state and its body. */
    private static List<WeakReference<?>> offerNewEvent(AuditWebhook module) {
        byte[] body = ("{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}")
                .getBytes(StandardCharsets.UTF_8);
        JsonParser parser = JSON.createParser(body);
        parser.nextToken();
        OnNewEvent.Args args = OnNewEvent.TYPE.reader().apply(JsonArgs.of(JsonBody.read(JSON, body, parser)));
        module.implementation(OnNewEvent.TYPE).orElseThrow().onNewEvent(args);
        return List.of(new WeakReference<>(args.stateEvents()), new WeakReference<>(body));
    }

    @Test
    void bearerTokenIsSentWhenConfigured() {
        AuditWebhook module = start(Map.of("token", "webhook-secret"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/audit"))))
                .singleElement().satisfies(request -> assertThat(request.getHeader("Authorization")).isEqualTo("Bearer webhook-secret")));
    }

    /** A Kubernetes Secret mounted as a file: its first line is sent, and the file is watched so that a rotation rebuilds the instance. */
    @Test
    void bearerTokenFromTheTokenFileIsSentAndTheFileIsWatched(@TempDir Path directory) throws IOException {
        Path tokenFile = Files.writeString(directory.resolve("token"), "file-secret\nnext-secret\n");
        Map<Path, String> watched = new HashMap<>();
        AuditWebhookConfig config = ModuleConfigs.bind(AuditWebhookConfig.class, Map.of("url", webhook.baseUrl() + "/audit",
                "shutdown-grace", "500ms"), Map.of("token-file", tokenFile.toString()));
        AuditWebhook module = (AuditWebhook) new AuditWebhookModuleType().create(config, new ModuleContext("audit", "example.com",
                registry, binder -> { }, watched::put, Optional.empty()));
        started.add(module);

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/audit"))))
                .singleElement().satisfies(request -> assertThat(request.getHeader("Authorization")).isEqualTo("Bearer file-secret")));
        assertThat(watched).containsOnlyKeys(tokenFile);
    }

    // ---- which callbacks

    @Test
    void everyNotificationCallbackAndNoOtherIsImplementedByDefault() {
        AuditWebhook module = start(Map.of());

        assertThat(AuditWebhookModuleType.NOTIFICATIONS).hasSize(11)
                .allSatisfy(callback -> assertThat(module.implementation(callback)).isPresent());
        assertThat(Callbacks.ALL).filteredOn(callback -> !AuditWebhookModuleType.NOTIFICATIONS.contains(callback))
                .hasSize(Callbacks.ALL.size() - 11)
                .allSatisfy(callback -> assertThat(module.implementation(callback)).isEmpty());
    }

    @Test
    void onlyTheConfiguredCallbacksAreImplemented() {
        AuditWebhook module = start(Map.of("callbacks[0]", "on_logged_out", "callbacks[1]", "on_user_registration"));

        assertThat(AuditWebhookModuleType.NOTIFICATIONS.stream().filter(callback -> module.implementation(callback).isPresent())
                .map(CallbackType::name)).containsExactlyInAnyOrder("on_logged_out", "on_user_registration");
    }

    // ---- never slowing the caller

    @Test
    void callbackReturnsAtOnceEvenWhenTheWebhookHangs() {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s"));
        long start = System.nanoTime();

        for (int i = 0; i < 50; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(module.mayBlock()).isFalse();
        assertThat(module.worstCase()).as("the callback waits for nothing").isEmpty();
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));
    }

    @Test
    void severalSendersDeliverInParallel() {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "senders", "3"));

        for (int i = 0; i < 5; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }

        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(3));
        assertThat(registry.get("policy.module.audit.queued").tag("module", "audit").gauge().value()).isEqualTo(2);
    }

    // ---- retries

    @Test
    void failedDeliveryIsRetriedWithTheSameRecordUntilTheWebhookAccepts() {
        webhook.stubFor(post("/flaky").inScenario("flaky").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(serverError()).willSetStateTo("second"));
        webhook.stubFor(post("/flaky").inScenario("flaky").whenScenarioStateIs("second")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("third"));
        webhook.stubFor(post("/flaky").inScenario("flaky").whenScenarioStateIs("third").willReturn(ok()));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/flaky", "initial-backoff", "50ms"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(delivered()).isEqualTo(1));
        List<LoggedRequest> attempts = webhook.findAll(postRequestedFor(urlEqualTo("/flaky")));
        assertThat(attempts).hasSize(3);
        assertThat(attempts).extracting(LoggedRequest::getBodyAsString).containsOnly(attempts.getFirst().getBodyAsString());
        // The backoff was 25..50 ms after the first failure and 50..100 ms after the second.
        assertThat(Duration.between(attempts.get(0).getLoggedDate().toInstant(), attempts.get(2).getLoggedDate().toInstant()))
                .isGreaterThanOrEqualTo(Duration.ofMillis(70));
        assertThat(backendCalls("error")).isEqualTo(2);
        assertThat(backendCalls("success")).isEqualTo(1);
        assertThat(dropped("attempts_exhausted")).isZero();
    }

    @ParameterizedTest(name = "HTTP {0}")
    @ValueSource(ints = {408, 429, 500, 502, 503, 504})
    void statusThatARetryCanFixIsRetried(int status) {
        webhook.stubFor(post("/once").inScenario("once").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(status)).willSetStateTo("recovered"));
        webhook.stubFor(post("/once").inScenario("once").whenScenarioStateIs("recovered").willReturn(ok()));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/once"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(delivered()).isEqualTo(1));
        assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/once")))).hasSize(2);
    }

    /**
     * A webhook that throttles asks for a second's patience, more than the first pause of the default
     * backoff (500 ms): no caller waits for a record, so it is sent again once the second is over, not
     * dropped at once like the answer of a callback that must come within its deadline.
     */
    @ParameterizedTest(name = "HTTP {0}")
    @ValueSource(ints = {429, 503})
    void aRecordTheWebhookAsksToSendLaterIsSentAgainAfterItsRetryAfterNotDropped(int status) {
        webhook.stubFor(post("/throttled").inScenario("throttled").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(status).withHeader("Retry-After", "1")).willSetStateTo("ready"));
        webhook.stubFor(post("/throttled").inScenario("throttled").whenScenarioStateIs("ready").willReturn(ok()));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/throttled", "initial-backoff", "500ms", "max-backoff", "30s"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(delivered()).isEqualTo(1));
        assertThat(dropped("attempts_exhausted")).isZero();
        List<LoggedRequest> attempts = webhook.findAll(postRequestedFor(urlEqualTo("/throttled")));
        assertThat(attempts).extracting(LoggedRequest::getBodyAsString).hasSize(2).containsOnly(attempts.getFirst().getBodyAsString());
        assertThat(Duration.between(attempts.get(0).getLoggedDate().toInstant(), attempts.get(1).getLoggedDate().toInstant()))
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    }

    /**
     * A webhook asking for longer than {@code max-backoff} is asked again after {@code max-backoff},
     * up to {@code max-attempts}: not answered with every queued record at once, each dropped after one
     * attempt.
     */
    @Test
    void aRetryAfterLongerThanMaxBackoffIsWaitedForUpToMaxBackoffNotAnsweredWithTheNextRecordAtOnce() {
        webhook.stubFor(post("/throttled").willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/throttled", "max-attempts", "2",
                "initial-backoff", "100ms", "max-backoff", "400ms"));

        for (int i = 0; i < 3; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }

        eventually(() -> assertThat(dropped("attempts_exhausted")).isEqualTo(3));
        List<LoggedRequest> attempts = webhook.findAll(postRequestedFor(urlEqualTo("/throttled")));
        assertThat(attempts).hasSize(6);
        for (int record = 0; record < 3; record++) {
            LoggedRequest first = attempts.get(2 * record);
            LoggedRequest second = attempts.get(2 * record + 1);
            assertThat(second.getBodyAsString()).isEqualTo(first.getBodyAsString());
            assertThat(Duration.between(first.getLoggedDate().toInstant(), second.getLoggedDate().toInstant()))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(400));
        }
    }

    @ParameterizedTest(name = "HTTP {0}")
    @ValueSource(ints = {400, 401, 403, 404, 413, 422})
    void clientErrorIsNotRetriedAndCountsAsRejected(int status) {
        webhook.stubFor(post("/refuse").willReturn(aResponse().withStatus(status)));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/refuse"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(dropped("rejected")).isEqualTo(1));
        assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/refuse")))).hasSize(1);
        assertThat(delivered()).isZero();
        assertThat(backendCalls("error")).isEqualTo(1);
    }

    /** A certificate the JDK does not trust (WireMock's own) is shown again on every attempt: dropped at once, as rejected. */
    @Test
    void refusedCertificateIsNotRetriedAndCountsAsRejected() {
        WireMockServer tls = new WireMockServer(options().dynamicHttpsPort().httpDisabled(true));
        tls.start();
        try {
            tls.stubFor(post("/audit").willReturn(ok()));
            AuditWebhook module = start(Map.of("url", "https://localhost:" + tls.httpsPort() + "/audit"));

            call(module, OnUserRegistration.TYPE, REGISTRATION);

            eventually(() -> assertThat(dropped("rejected")).isEqualTo(1));
            assertThat(backendCalls("error")).isEqualTo(1);
            assertThat(dropped("attempts_exhausted")).isZero();
        } finally {
            tls.stop();
        }
    }

    /**
     * An Error while a record is written (the heap running out on a huge one) is counted as failed and
     * ends nothing else: the sender, the only one, goes on to deliver the next record.
     */
    @Test
    void anErrorWhileWritingARecordCountsItAsFailedAndTheSenderDeliversTheNext() {
        AuditWebhook module = start(Map.of());
        ObjectNode content = JSON.createObjectNode().putPOJO("huge", new OutOfMemoryOnWrite());

        module.implementation(OnAccountDataUpdated.TYPE).orElseThrow().onAccountDataUpdated(
                new OnAccountDataUpdated.Args("@alice:example.com", Optional.empty(), "org.example.huge", content));
        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(delivered()).isEqualTo(1));
        assertThat(dropped("failed")).isEqualTo(1);
        assertThat(onlyRecord().get("callback").asString()).isEqualTo("on_user_registration");
    }

    /** A failure every record meets logs one WARN line (with its stack trace), not one a record: the others are at DEBUG. */
    @Test
    void aFailureEveryRecordMeetsLogsOneWarningNotOneARecord() {
        AuditWebhook module = start(Map.of());
        ObjectNode content = JSON.createObjectNode().putPOJO("huge", new OutOfMemoryOnWrite());

        for (int i = 0; i < 3; i++) {
            module.implementation(OnAccountDataUpdated.TYPE).orElseThrow().onAccountDataUpdated(
                    new OnAccountDataUpdated.Args("@alice:example.com", Optional.empty(), "org.example.huge", content));
        }

        eventually(() -> assertThat(dropped("failed")).isEqualTo(3));
        assertThat(lines.at(Level.ERROR)).isEmpty();
        assertThat(lines.at(Level.WARN)).containsExactly("audit webhook 'audit': could not send a on_account_data_updated record");
    }

    /** A value that runs the heap out when it is written. */
    public static final class OutOfMemoryOnWrite {
        public String getValue() {
            throw new OutOfMemoryError("Java heap space (a test)");
        }
    }

    @Test
    void unreachableWebhookIsRetriedThenTheRecordIsDroppedAndCounted() {
        AuditWebhook module = start(Map.of("url", "http://127.0.0.1:" + unusedPort() + "/audit", "max-attempts", "3"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(dropped("attempts_exhausted")).isEqualTo(1));
        assertThat(backendCalls("error")).isEqualTo(3);
        assertThat(delivered()).isZero();
    }

    @Test
    void webhookSlowerThanTheTimeoutCountsAsATimeout() {
        webhook.stubFor(post("/slow").willReturn(ok().withFixedDelay(3_000)));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/slow", "timeout", "200ms", "max-attempts", "2"));

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(dropped("attempts_exhausted")).isEqualTo(1));
        assertThat(backendCalls("timeout")).isEqualTo(2);
    }

    // ---- the queue

    @Test
    void fullQueueDropsNewRecordsAndCountsThem() {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "queue-capacity", "2"));
        call(module, OnUserRegistration.TYPE, REGISTRATION);
        // The sender holds the first record (in flight); the queue is empty again.
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));

        for (int i = 0; i < 5; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }

        assertThat(dropped("queue_full")).isEqualTo(3);
        assertThat(registry.get("policy.module.audit.queued").tag("module", "audit").gauge().value()).isEqualTo(2);
    }

    /** Large records behind a hanging webhook: the queue holds up to queue-max-size of them, as they will be sent. */
    @Test
    void recordsPastTheQueuesSizeInBytesAreDroppedAndCountedSoLargeOnesCannotRunTheHeapOut() {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "queue-max-size", "10KB"));
        call(module, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1)); // in flight, out of the queue
        ObjectNode large = JSON.createObjectNode().put("text", "x".repeat(3_000));

        for (int i = 0; i < 5; i++) {
            module.implementation(OnAccountDataUpdated.TYPE).orElseThrow().onAccountDataUpdated(
                    new OnAccountDataUpdated.Args("@alice:example.com", Optional.empty(), "org.example.large", large));
        }

        assertThat(queued()).isEqualTo(3);
        assertThat(dropped("queue_full")).isEqualTo(2);
        assertThat(registry.get("policy.module.audit.queued.bytes").tag("module", "audit").gauge().value())
                .isBetween(9_000.0, 10_240.0);
        assertThat(queueLines()).singleElement().asString().matches(".*queue full \\(3 of 10000 records, [0-9]+B of 10KB\\).*");
    }

    /**
     * A queue full by its count of records drops the new ones: their bytes must not stay counted in the
     * queue's, or a burst of drops would leave the queue refusing every record, empty, for good.
     */
    @Test
    void recordsAFullQueueDropsLeaveNoBytesCountedSoOnceDrainedItAcceptsRecordsAgain() {
        // in flight long enough for the 30 calls below, which take a few milliseconds
        webhook.stubFor(post("/slow").willReturn(ok().withFixedDelay(300)));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/slow", "queue-capacity", "1", "queue-max-size", "2KB"));
        call(module, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/slow")))).hasSize(1)); // in flight
        for (int i = 0; i < 30; i++) { // one queued, the others dropped: together far more bytes than 2KB
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }
        assertThat(dropped("queue_full")).isPositive();
        eventually(() -> assertThat(queued()).isZero());
        eventually(() -> assertThat(registry.get("policy.module.audit.queued.bytes").tag("module", "audit").gauge().value())
                .isZero());

        double deliveredBefore = delivered();
        call(module, OnUserRegistration.TYPE, REGISTRATION);

        eventually(() -> assertThat(delivered()).isEqualTo(deliveredBefore + 1));
    }

    @Test
    void aRecordLargerThanTheQueuesSizeInBytesIsStillTakenIntoAnEmptyQueue() {
        AuditWebhook module = start(Map.of("queue-max-size", "1KB"));
        ObjectNode large = JSON.createObjectNode().put("text", "x".repeat(3_000));

        module.implementation(OnAccountDataUpdated.TYPE).orElseThrow().onAccountDataUpdated(
                new OnAccountDataUpdated.Args("@alice:example.com", Optional.empty(), "org.example.large", large));

        eventually(() -> assertThat(delivered()).isEqualTo(1));
        assertThat(onlyRecord().get("arguments").get("content").get("text").asString()).hasSize(3_000);
        assertThat(registry.get("policy.module.audit.queued.bytes").tag("module", "audit").gauge().value()).isZero();
    }

    /** Kept full by its count of records, or by its size in bytes (about 5 of these records in 1KB). */
    @ParameterizedTest
    @CsvSource({"queue-capacity, 4", "queue-max-size, 1KB"})
    void aQueueKeptFullByASteadyOverloadLogsOnceItFillsAndOnceItHasDrainedNotForEachRecord(String bound, String value)
            throws InterruptedException {
        webhook.stubFor(post("/steady").willReturn(ok().withFixedDelay(40)));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/steady", bound, value));
        for (int i = 0; i < 60; i++) { // one every 10 ms, four times what the sender delivers
            call(module, OnUserRegistration.TYPE, REGISTRATION);
            Thread.sleep(10);
        }
        eventually(() -> assertThat(queued()).isZero());
        call(module, OnUserRegistration.TYPE, REGISTRATION);

        assertThat(dropped("queue_full")).isGreaterThan(20);
        assertThat(queueLines()).hasSizeLessThanOrEqualTo(4).last().asString().contains("accepts records again after dropping");
    }

    @Test
    void aQueueOfOneSaysItAcceptsRecordsAgain() {
        webhook.stubFor(post("/steady").willReturn(ok().withFixedDelay(200)));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/steady", "queue-capacity", "1"));
        call(module, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/steady")))).hasSize(1)); // in flight
        call(module, OnUserRegistration.TYPE, REGISTRATION); // queued
        call(module, OnUserRegistration.TYPE, REGISTRATION); // dropped: full
        eventually(() -> assertThat(queued()).isZero());

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        assertThat(queueLines()).hasSize(2);
        assertThat(queueLines().getFirst())
                .matches("audit webhook 'audit': queue full \\(1 of 1 record, [0-9]+B of 64MB\\); dropping new records until it drains");
        assertThat(queueLines().getLast()).isEqualTo("audit webhook 'audit': queue accepts records again after dropping 1");
    }

    private double queued() {
        return registry.get("policy.module.audit.queued").tag("module", "audit").gauge().value();
    }

    private List<String> queueLines() {
        return lines.all().stream().filter(line -> line.contains("queue full") || line.contains("accepts records again")).toList();
    }

    // ---- shutdown

    @Test
    void shutdownDeliversWhatIsQueued() {
        webhook.stubFor(post("/audit").willReturn(ok().withFixedDelay(20)));
        AuditWebhook module = start(Map.of("shutdown-grace", "10s"));
        for (int i = 0; i < 30; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }

        module.close();

        assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/audit")))).hasSize(30);
        assertThat(delivered()).isEqualTo(30);
        assertThat(dropped("shutdown")).isZero();
    }

    /**
     * Behind a webhook that fails, the records shutdown still tries to deliver run out of attempts: the
     * closing line says they were dropped, at WARN, not that everything queued was delivered.
     */
    @Test
    void shutdownBehindAFailingWebhookSaysTheRecordsItSentAndDroppedWereNotDelivered() {
        webhook.stubFor(post("/failing").willReturn(serverError().withFixedDelay(100)));
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/failing", "max-attempts", "2", "shutdown-grace", "10s"));
        for (int i = 0; i < 3; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }

        module.close();

        assertThat(dropped("attempts_exhausted")).isEqualTo(3);
        assertThat(lines.at(Level.INFO)).noneSatisfy(line -> assertThat(line).contains("every queued record was delivered"));
        assertThat(lines.at(Level.WARN)).contains("audit webhook 'audit' stopped; 3 records it sent while it stopped "
                + "{attempts_exhausted=3} were dropped (since start: delivered 0, dropped {queue_full=0, rejected=0, "
                + "attempts_exhausted=3, shutdown=0, failed=0})");
    }

    /**
     * A reload replacing the instance, behind a webhook slower than the records come: what the grace
     * did not deliver goes on to the successor, the delivery in flight at its end too; none is lost.
     */
    @Test
    void aReloadHandsTheRecordsStillQueuedAtTheEndOfTheGraceOnToTheInstanceThatReplacesIt() {
        webhook.stubFor(post("/audit").willReturn(ok().withFixedDelay(50)));
        AuditWebhook replaced = start(Map.of("shutdown-grace", "200ms"));
        for (int i = 0; i < 20; i++) {
            call(replaced, OnUserRegistration.TYPE, REGISTRATION);
        }
        AuditWebhook successor = start(Map.of("max-attempts", "4"), Optional.of(replaced));

        replaced.close();

        eventually(() -> assertThat(delivered()).isEqualTo(20));
        assertThat(dropped("shutdown")).isZero();
        assertThat(lines.at(Level.INFO)).anySatisfy(line -> assertThat(line).contains("handed").contains("on to the instance that replaced it"));
        successor.close();
    }

    /**
     * A reload that fixes the webhook's token: the records queued before it, which the replaced instance
     * still sends during its grace, are refused with the old token, and go on to the successor, which
     * delivers them with the new one, rather than being dropped as rejected.
     */
    @Test
    void recordsTheReplacedInstancesSettingsCannotDeliverDuringItsGraceGoOnToTheSuccessor() {
        // in flight until the replaced instance is closed below, after a successor is built: a second leaves
        // room for a loaded machine, where a refusal before the close would be dropped, not handed on
        webhook.stubFor(post("/guarded").atPriority(2).willReturn(aResponse().withStatus(401).withFixedDelay(1_000)));
        webhook.stubFor(post("/guarded").atPriority(1).withHeader("Authorization", equalTo("Bearer new-token")).willReturn(ok()));
        AuditWebhook replaced = start(Map.of("url", webhook.baseUrl() + "/guarded", "token", "revoked-token", "shutdown-grace", "10s"));
        call(replaced, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/guarded")))).hasSize(1)); // in flight
        call(replaced, OnUserRegistration.TYPE, REGISTRATION); // queued
        AuditWebhook successor = start(Map.of("url", webhook.baseUrl() + "/guarded", "token", "new-token"), Optional.of(replaced));

        replaced.close();

        eventually(() -> assertThat(delivered()).isEqualTo(2));
        assertThat(dropped("rejected")).isZero();
        assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/guarded")).withHeader("Authorization", equalTo("Bearer new-token"))))
                .hasSize(2);
        assertThat(lines.at(Level.INFO)).anySatisfy(line -> assertThat(line)
                .contains("handed 2 record(s) on to the instance that replaced it (0 of them cut short in flight")
                .contains("2 refused or out of attempts with its own settings"));
        successor.close();
    }

    /**
     * A successor whose queue is full drops what it is handed as {@code queue_full}, counted there; the
     * replaced instance says it offered them, not that it handed them on.
     */
    @Test
    void recordsHandedToASuccessorWhoseQueueIsFullAreCountedDroppedThereNotHandedOn() {
        AuditWebhook replaced = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "shutdown-grace", "300ms"));
        call(replaced, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1)); // in flight
        call(replaced, OnUserRegistration.TYPE, REGISTRATION);
        call(replaced, OnUserRegistration.TYPE, REGISTRATION); // queued
        AuditWebhook successor = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "queue-capacity", "1"),
                Optional.of(replaced));
        call(successor, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(2)); // in flight
        call(successor, OnUserRegistration.TYPE, REGISTRATION); // its queue full

        replaced.close();

        assertThat(dropped("queue_full")).isEqualTo(3);
        assertThat(dropped("shutdown")).isZero();
        assertThat(lines.at(Level.INFO)).noneSatisfy(line -> assertThat(line).contains("handed"));
        assertThat(lines.at(Level.WARN)).anySatisfy(line -> assertThat(line).startsWith("audit webhook 'audit' stopped; 3 records"
                + " handed on to the instance that replaced it, whose queue was full (counted there as queue_full) were dropped"));
        successor.close();
    }

    /**
     * The grace ends while the webhook holds a delivery: the successor sends that record again, with
     * the id it was first sent with, so that a receiver that got both keeps one.
     */
    @Test
    void aDeliveryTheEndOfAReloadsGraceCutsShortIsSentAgainByTheSuccessorWithTheSameId() {
        AuditWebhook replaced = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "shutdown-grace", "300ms"));
        call(replaced, OnUserRegistration.TYPE, REGISTRATION);
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));
        AuditWebhook successor = start(Map.of(), Optional.of(replaced));

        replaced.close();

        JsonNode resent = onlyRecord();
        JsonNode cutShort = JSON.readTree(webhook.findAll(postRequestedFor(urlEqualTo("/hang"))).getFirst().getBodyAsString());
        assertThat(resent).isEqualTo(cutShort);
        eventually(() -> assertThat(delivered()).isEqualTo(1));
        assertThat(dropped("shutdown")).isZero();
        assertThat(lines.at(Level.INFO)).anySatisfy(line -> assertThat(line)
                .contains("handed 1 record(s) on to the instance that replaced it (1 of them cut short in flight"));
        successor.close();
    }

    /**
     * A record is written as the instance that accepted it said: a successor that includes the room
     * state sends a handed-on on_new_event again as it was first sent, not with a made-up empty state.
     */
    @Test
    void aNewEventRecordHandedOnToASuccessorThatIncludesTheRoomStateIsSentAgainAsItWasFirstSent() {
        AuditWebhook replaced = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "shutdown-grace", "300ms"));
        call(replaced, OnNewEvent.TYPE, "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}");
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));
        AuditWebhook successor = start(Map.of("include-state-events", "true"), Optional.of(replaced));

        replaced.close();

        JsonNode cutShort = JSON.readTree(webhook.findAll(postRequestedFor(urlEqualTo("/hang"))).getFirst().getBodyAsString());
        assertThat(onlyRecord()).isEqualTo(cutShort);
        assertThat(cutShort.get("arguments").has("state_events")).isFalse();
        successor.close();
    }

    /** A reload refused after it built the successor: what the grace leaves is dropped, not given to an instance that never served. */
    @Test
    void aSuccessorThatNeverServedTakesNoRecords() {
        webhook.stubFor(post("/audit").willReturn(ok().withFixedDelay(100)));
        AuditWebhook serving = start(Map.of("shutdown-grace", "250ms"));
        start(Map.of("max-attempts", "4"), Optional.of(serving)).close();
        for (int i = 0; i < 10; i++) {
            call(serving, OnUserRegistration.TYPE, REGISTRATION);
        }

        serving.close();

        assertThat(dropped("shutdown")).isPositive();
        assertThat(delivered() + dropped("shutdown")).isEqualTo(10);
        assertThat(lines.at(Level.INFO)).noneSatisfy(line -> assertThat(line).contains("on to the instance that replaced it"));
    }

    /** Two reloads within the first instance's grace: its queue goes to the instance serving now. */
    @Test
    void recordsLeftAfterTwoQuickReloadsGoToTheInstanceServingNow() {
        webhook.stubFor(post("/audit").willReturn(ok().withFixedDelay(50)));
        AuditWebhook first = start(Map.of("shutdown-grace", "150ms"));
        for (int i = 0; i < 20; i++) {
            call(first, OnUserRegistration.TYPE, REGISTRATION);
        }
        AuditWebhook second = start(Map.of("max-attempts", "4"), Optional.of(first));
        AuditWebhook third = start(Map.of("max-attempts", "5"), Optional.of(second));
        second.close();

        first.close();

        eventually(() -> assertThat(delivered()).isEqualTo(20));
        assertThat(dropped("shutdown")).isZero();
        third.close();
    }

    /**
     * As {@link #recordsLeftAfterTwoQuickReloadsGoToTheInstanceServingNow}, with the instance in the
     * middle closed and held by nobody: a collection must not cut the way to the one serving now.
     */
    @Test
    void recordsLeftAfterTwoQuickReloadsGoToTheInstanceServingNowOnceTheOneInBetweenIsCollected() throws InterruptedException {
        webhook.stubFor(post("/audit").willReturn(ok().withFixedDelay(50)));
        AuditWebhook first = start(Map.of("shutdown-grace", "150ms"));
        for (int i = 0; i < 20; i++) {
            call(first, OnUserRegistration.TYPE, REGISTRATION);
        }
        TwoReloads reloads = reloadTwice(first);
        // whatever a collection can clear, it has cleared: nothing but the chain of successors holds it
        for (int i = 0; i < 10 && reloads.between().get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }

        first.close();

        eventually(() -> assertThat(delivered()).isEqualTo(20));
        assertThat(dropped("shutdown")).isZero();
        assertThat(lines.at(Level.INFO)).anySatisfy(line -> assertThat(line).contains("handed").contains("on to the instance that replaced it"));
    }

    /** The instance serving after two reloads of {@code first}, and the closed one in between, held by nobody. */
    private record TwoReloads(AuditWebhook serving, WeakReference<AuditWebhook> between) { }

    private TwoReloads reloadTwice(AuditWebhook first) {
        AuditWebhook second = start(Map.of("max-attempts", "4"), Optional.of(first));
        AuditWebhook third = start(Map.of("max-attempts", "5"), Optional.of(second));
        second.close();
        started.remove(second);
        return new TwoReloads(third, new WeakReference<>(second));
    }

    @Test
    void shutdownCountsWhatItCouldNotDeliverWithinTheGracePeriod() {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "shutdown-grace", "300ms"));
        for (int i = 0; i < 3; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));
        long start = System.nanoTime();

        module.close();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        // One in flight, two still queued.
        assertThat(dropped("shutdown")).isEqualTo(3);
        assertThat(delivered()).isZero();
    }

    /**
     * The gateway's time to stop ran out before the grace did: the closing stops waiting, yet counts
     * and logs every record it gives up, the one in flight too, before it returns; the interrupt stays,
     * for the modules closing after it.
     */
    @Test
    void anInterruptedCloseStopsWaitingAndStillCountsAndLogsEveryRecordItGivesUp() throws InterruptedException {
        AuditWebhook module = start(Map.of("url", webhook.baseUrl() + "/hang", "timeout", "60s", "shutdown-grace", "10s"));
        for (int i = 0; i < 3; i++) {
            call(module, OnUserRegistration.TYPE, REGISTRATION);
        }
        eventually(() -> assertThat(webhook.findAll(postRequestedFor(urlEqualTo("/hang")))).hasSize(1));
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread closer = Thread.ofVirtual().start(() -> {
            module.close();
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        // waiting for the sender to deliver within the grace: the interrupt cuts that wait short
        eventually(() -> assertThat(closer.getState()).isEqualTo(Thread.State.TIMED_WAITING));
        long start = System.nanoTime();

        closer.interrupt();
        closer.join(Duration.ofSeconds(5));

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(dropped("shutdown")).isEqualTo(3);
        assertThat(lines.at(Level.WARN)).containsExactly("audit webhook 'audit' stopped; 3 records still queued or in flight "
                + "when the gateway's time to stop ran out were dropped (since start: delivered 0, dropped {queue_full=0, "
                + "rejected=0, attempts_exhausted=0, shutdown=3, failed=0})");
        assertThat(stillInterrupted).isTrue();
    }

    @Test
    void notificationAfterShutdownIsCountedAsDropped() {
        AuditWebhook module = start(Map.of());
        module.close();

        call(module, OnUserRegistration.TYPE, REGISTRATION);

        assertThat(dropped("shutdown")).isEqualTo(1);
        assertThat(webhook.getAllServeEvents()).isEmpty();
    }

    // ---- helpers

    /** Test defaults: short backoffs and grace so that tests are quick; any key may be overridden. */
    private AuditWebhook start(Map<String, String> settings) {
        return start(settings, Optional.empty());
    }

    /** @param predecessor the instance a reload replaces with this one */
    private AuditWebhook start(Map<String, String> settings, Optional<PolicyModule> predecessor) {
        AuditWebhookConfig config = ModuleConfigs.bind(AuditWebhookConfig.class, Map.of("url", webhook.baseUrl() + "/audit",
                "initial-backoff", "10ms", "max-backoff", "100ms", "shutdown-grace", "500ms"), settings);
        // the queue gauge of the first instance only: as InstanceMeters binds a successor's after the predecessor's went
        Consumer<MeterBinder> meters = predecessor.isPresent() ? binder -> { } : binder -> binder.bindTo(registry);
        AuditWebhook module = (AuditWebhook) new AuditWebhookModuleType().create(config, new ModuleContext("audit", "example.com",
                registry, meters, (file, fingerprint) -> { }, predecessor));
        started.add(module);
        return module;
    }

    private static <M, A> void call(PolicyModule module, CallbackType<M, A, ?> callback, String json) {
        A args = callback.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(json)));
        Object answer = callback.call().apply(module.implementation(callback).orElseThrow(), args);
        assertThat(answer).isEqualTo(RunAll.DELIVERED);
    }

    private static JsonNode onlyRecord() {
        List<LoggedRequest> requests = new ArrayList<>();
        eventually(() -> {
            requests.clear();
            requests.addAll(webhook.findAll(postRequestedFor(urlEqualTo("/audit"))));
            assertThat(requests).hasSize(1);
        });
        return JSON.readTree(requests.getFirst().getBodyAsString());
    }

    private double delivered() {
        return registry.get("policy.module.audit.delivered").tag("module", "audit").counter().count();
    }

    private double dropped(String reason) {
        return registry.get("policy.module.audit.dropped").tag("module", "audit").tag("reason", reason)
                .counter().count();
    }

    private long backendCalls(String outcome) {
        return registry.get("policy.module.backend").tag("module", "audit").tag("outcome", outcome).timer().count();
    }
}
