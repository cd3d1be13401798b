package dev.matrixpolicy.gateway.module;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static dev.matrixpolicy.gateway.support.HandWrittenServer.answerEach;
import static dev.matrixpolicy.gateway.support.HandWrittenServer.requestHead;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.sun.net.httpserver.HttpServer;
import dev.matrixpolicy.gateway.module.BackendFailure.Kind;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import org.springframework.util.unit.DataSize;

/** The one backend call every module makes, against a real local server: cap, retries, classification, timing, log line. */
class BackendTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("failed after");

    private static final Duration GENEROUS = Duration.ofSeconds(5);
    /** Short pauses, so that retries do not slow the suite. */
    private static final RetryPolicy THREE_ATTEMPTS = new RetryPolicy(3, new Backoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    private static final Backend.ReplyReader<String> TEXT_OF_A_2XX = reply -> {
        if (!reply.isSuccessful()) {
            throw BackendFailure.status(reply.status());
        }
        return new String(reply.body(), StandardCharsets.UTF_8);
    };

    @RegisterExtension
    static final WireMockExtension server = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Backend> opened = new ArrayList<>();

    private final Logger backendLogger = (Logger) LoggerFactory.getLogger(Backend.class);

    private final List<ServerSocket> rawServers = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        opened.forEach(Backend::close);
        for (ServerSocket server : rawServers) {
            server.close();
        }
        backendLogger.detachAndStopAllAppenders();
    }

    // ---- the reply cap

    @Test
    void replyWithinTheLimitIsRead() {
        server.stubFor(get("/reply").willReturn(ok("x".repeat(1024))));

        assertThat(backend(builder().maxReplySize(DataSize.ofKilobytes(1))).call(getting("/reply"), TEXT_OF_A_2XX)).hasSize(1024);
    }

    @Test
    void declaredLengthOverTheLimitFailsAsTooLargeWithoutRetryAndNamesTheLimit() {
        server.stubFor(get("/reply").willReturn(ok("x".repeat(1025))));
        Backend backend = backend(builder().maxReplySize(DataSize.ofKilobytes(1)).retryPolicy(THREE_ATTEMPTS));

        BackendFailure failure = failure(() -> backend.call(getting("/reply"), TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(Kind.TOO_LARGE);
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).isEqualTo("reply larger than max-reply-size 1KB");
        server.verify(1, getRequestedFor(urlEqualTo("/reply")));
        assertThat(attempts("error")).isEqualTo(1);
    }

    @Test
    void chunkedReplyWithoutALengthIsCutAtTheLimitToo() {
        server.stubFor(get("/reply").willReturn(ok("x".repeat(5000)).withChunkedDribbleDelay(5, 20)));

        BackendFailure failure = failure(() -> backend(builder().maxReplySize(DataSize.ofBytes(4096))).call(getting("/reply"), TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(Kind.TOO_LARGE);
        assertThat(failure.getMessage()).isEqualTo("reply larger than max-reply-size 4KB");
    }

    @Test
    void replyDeclaredOverTheLimitFailsAtOnceWithoutReadingWhatTheBackendKeepsSending() throws IOException {
        URI endless = holdingServer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n", 10);

        assertFailsLongBeforeItsTimeout(endless, 1024, Kind.TOO_LARGE);
    }

    @Test
    void chunkedReplyOverTheLimitFailsAtOnceWithoutReadingWhatTheBackendKeepsSending() throws IOException {
        URI endless = holdingServer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "800\r\n" + "x".repeat(0x800) + "\r\n", 0);

        assertFailsLongBeforeItsTimeout(endless, 1024, Kind.TOO_LARGE);
    }

    /** The call against a server that holds its reply fails as {@code kind} long before its 30 s timeout, and the client closes at once. */
    private void assertFailsLongBeforeItsTimeout(URI holding, int maxReplySize, Kind kind) {
        Backend backend = backend(builder().maxReplySize(DataSize.ofBytes(maxReplySize)));
        long start = System.nanoTime();

        BackendFailure failure = failure(() -> backend.call(BackendRequest.get("test_callback", holding, Duration.ofSeconds(30)),
                TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(kind);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("time to the failure, of a 30 s timeout")
                .isLessThan(Duration.ofSeconds(5));
        long closing = System.nanoTime();
        backend.close();
        assertThat(Duration.ofNanos(System.nanoTime() - closing)).as("time to close: no call is left in flight")
                .isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void noCompressionIsAskedForAndACompressedReplyIsReadAsItsBytesNeverInflated() throws IOException {
        java.io.ByteArrayOutputStream packed = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(packed)) {
            gzip.write(" ".repeat(50_000_000).getBytes(java.nio.charset.StandardCharsets.US_ASCII)); // 50 MB in some 50 KB
        }
        server.stubFor(get("/bomb").willReturn(ok().withHeader("Content-Encoding", "gzip").withBody(packed.toByteArray())));

        String read = backend(builder().maxReplySize(DataSize.ofMegabytes(1))).call(getting("/bomb"), TEXT_OF_A_2XX);

        assertThat(read.length()).as("the packed bytes, read as text").isLessThanOrEqualTo(packed.size());
        server.verify(getRequestedFor(urlEqualTo("/bomb")).withoutHeader("Accept-Encoding"));
    }

    @Test
    void replyWhoseBodyIsNotReadDoesNotCountAgainstTheLimit() {
        server.stubFor(post("/webhook").willReturn(ok("x".repeat(4096))));

        int status = backend(builder().maxReplySize(DataSize.ofBytes(100))).call(posting("/webhook"), BackendReply::status);

        assertThat(status).isEqualTo(200);
    }

    @Test
    void theRestOfABodyLeftUnreadPastTheLimitIsNeverReadAsTheNextReply() {
        server.stubFor(post("/webhook").willReturn(ok("{\"left\": \"" + "x".repeat(300_000) + "\"}")));
        server.stubFor(get("/next").willReturn(ok("next")));
        Backend backend = backend(builder().maxReplySize(DataSize.ofKilobytes(100)));

        for (int i = 0; i < 3; i++) {
            assertThat(backend.call(posting("/webhook"), BackendReply::status)).isEqualTo(200);
            assertThat(backend.call(getting("/next"), TEXT_OF_A_2XX)).isEqualTo("next");
        }
    }

    @Test
    void replyWhoseBodyIsNotReadEndsItsCallAtOnceThoughTheBackendHoldsTheRestOfTheBody() throws IOException {
        // the status says it all: the reader never asks for the body, which the backend holds
        URI holding = holdingServer("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", 10);

        assertFailsLongBeforeItsTimeout(holding, 1024 * 1024, Kind.STATUS);
    }

    @Test
    void limitIsOneByteToEightMegabytes() {
        assertThatExceptionOfType(ModuleConfigurationException.class)
                .isThrownBy(() -> builder().maxReplySize(DataSize.ofMegabytes(9)))
                .satisfies(refused -> assertThat(refused.field()).isEqualTo("max-reply-size"))
                .withMessage("must be between 1B and 8MB (the Synapse module reads no more of the gateway's answer), got 9MB");
        assertThatExceptionOfType(ModuleConfigurationException.class).isThrownBy(() -> builder().maxReplySize(DataSize.ofBytes(0)));
        assertThat(Backend.DEFAULT_MAX_REPLY_SIZE).isEqualTo(DataSize.ofMegabytes(1));
    }

    // ---- retries and classification

    @Test
    void retryableFailureIsRetriedAndEveryAttemptTimed() {
        server.stubFor(get("/flaky").inScenario("flaky").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(503)).willSetStateTo("second"));
        server.stubFor(get("/flaky").inScenario("flaky").whenScenarioStateIs("second")
                .willReturn(aResponse().withStatus(429)).willSetStateTo("third"));
        server.stubFor(get("/flaky").inScenario("flaky").whenScenarioStateIs("third").willReturn(ok("done")));

        assertThat(backend(builder().retryPolicy(THREE_ATTEMPTS)).call(getting("/flaky"), TEXT_OF_A_2XX)).isEqualTo("done");
        assertThat(attempts("error")).isEqualTo(2);
        assertThat(attempts("success")).isEqualTo(1);
    }

    @Test
    void refusedRepliesLeaveTheirConnectionForTheNextAttempt() throws IOException {
        // a real server that notes the client's port of each request: one port, one connection
        HttpServer portNoting = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        List<Integer> clientPorts = new CopyOnWriteArrayList<>();
        portNoting.createContext("/", exchange -> {
            clientPorts.add(exchange.getRemoteAddress().getPort());
            exchange.getRequestBody().readAllBytes();
            boolean last = clientPorts.size() == 3;
            byte[] body = (last ? "done" : "{\"errcode\": \"M_UNKNOWN\", \"error\": \"" + "busy ".repeat(40_000) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(last ? 200 : 503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        portNoting.start();
        try {
            URI url = URI.create("http://127.0.0.1:" + portNoting.getAddress().getPort() + "/busy");

            String answer = backend(builder().retryPolicy(THREE_ATTEMPTS)).call(BackendRequest.get("test_callback", url, GENEROUS),
                    TEXT_OF_A_2XX);

            assertThat(answer).isEqualTo("done");
            assertThat(clientPorts).as("client ports of the three attempts").hasSize(3).containsOnly(clientPorts.getFirst());
        } finally {
            portNoting.stop(0);
        }
    }

    @Test
    void lastFailureTellsHowManyAttemptsWereMade() {
        server.stubFor(get("/down").willReturn(aResponse().withStatus(502)));

        BackendFailure failure = failure(() -> backend(builder().retryPolicy(THREE_ATTEMPTS)).call(getting("/down"), TEXT_OF_A_2XX));

        assertThat(failure.getMessage()).isEqualTo("HTTP 502");
        assertThat(failure.attempts()).isEqualTo(3);
        server.verify(3, getRequestedFor(urlEqualTo("/down")));
    }

    @Test
    void failureThatAnotherAttemptCannotFixIsNotRetried() {
        server.stubFor(get("/missing").willReturn(aResponse().withStatus(404)));
        server.stubFor(get("/garbled").willReturn(okJson("{\"unterminated\": ")));
        Backend backend = backend(builder().retryPolicy(THREE_ATTEMPTS));

        assertThat(failure(() -> backend.call(getting("/missing"), TEXT_OF_A_2XX)).attempts()).isEqualTo(1);
        BackendFailure garbled = failure(() -> backend.call(getting("/garbled"), BackendReply::json));
        assertThat(garbled.kind()).isEqualTo(Kind.UNUSABLE);
        assertThat(garbled.getMessage()).startsWith("unusable answer: not JSON (");
        server.verify(1, getRequestedFor(urlEqualTo("/garbled")));
    }

    @Test
    void retryComesNoSoonerThanRetryAfterWhenThatFitsTheLongestPause() {
        server.stubFor(get("/busy").inScenario("busy").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "1")).willSetStateTo("ready"));
        server.stubFor(get("/busy").inScenario("busy").whenScenarioStateIs("ready").willReturn(ok("done")));
        // pauses drawn between 500 ms and 1 s: only Retry-After makes the retry wait the whole second
        RetryPolicy upToASecond = new RetryPolicy(2, new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1)));

        assertThat(backend(builder().retryPolicy(upToASecond)).call(getting("/busy"), TEXT_OF_A_2XX)).isEqualTo("done");

        List<Long> sent = server.getAllServeEvents().stream().map(event -> event.getRequest().getLoggedDate().getTime()).sorted().toList();
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1) - sent.get(0)).isGreaterThanOrEqualTo(1000);
    }

    @Test
    void retryAfterLongerThanTheLongestPauseEndsTheRetriesAndIsReported() {
        server.stubFor(get("/busy").willReturn(aResponse().withStatus(503).withHeader("Retry-After", "30")));
        server.stubFor(get("/dated").willReturn(aResponse().withStatus(429)
                .withHeader("Retry-After", DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusMinutes(2)))));
        Backend backend = backend(builder().retryPolicy(THREE_ATTEMPTS));

        BackendFailure failure = failure(() -> backend.call(getting("/busy"), TEXT_OF_A_2XX));
        BackendFailure dated = failure(() -> backend.call(getting("/dated"), TEXT_OF_A_2XX));

        assertThat(failure.getMessage()).isEqualTo("HTTP 503, Retry-After 30s");
        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(dated.getMessage()).startsWith("HTTP 429, Retry-After 1");
        assertThat(dated.attempts()).isEqualTo(1);
    }

    @Test
    void retryAfterInMoreDigitsThanALongHoldsIsPastAnyPauseNotAbsent() {
        server.stubFor(get("/forever").willReturn(aResponse().withStatus(429).withHeader("Retry-After", "99999999999999999999")));
        Backend backend = backend(builder().retryPolicy(THREE_ATTEMPTS));

        BackendFailure failure = failure(() -> backend.call(getting("/forever"), TEXT_OF_A_2XX));

        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(failure.getMessage()).startsWith("HTTP 429, Retry-After ");
        server.verify(1, getRequestedFor(urlEqualTo("/forever")));
    }

    @Test
    void requestSentOnceIsNotRetriedWhateverThePolicy() {
        server.stubFor(post("/notify").willReturn(aResponse().withStatus(503)));

        failure(() -> backend(builder().retryPolicy(THREE_ATTEMPTS)).call(posting("/notify").once(), TEXT_OF_A_2XX));

        server.verify(1, postRequestedFor(urlEqualTo("/notify")));
    }

    @Test
    void refusedConnectionIsUnreachableAndRetried() {
        BackendRequest nobody = BackendRequest.get("test_callback", URI.create("http://127.0.0.1:" + unusedPort() + "/x"), GENEROUS);

        BackendFailure failure = failure(() -> backend(builder().retryPolicy(THREE_ATTEMPTS)).call(nobody, TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(Kind.UNREACHABLE);
        assertThat(failure.getMessage()).contains("ConnectException").doesNotContain("127.0.0.1");
        assertThat(failure.attempts()).isEqualTo(3);
    }

    @Test
    void refusedCertificateIsNotRetriedButCountsAgainstTheBackend() {
        // HTTPS only on a server of its own: with both, WireMock's baseUrl() would be the HTTPS one for every test
        WireMockServer secure = new WireMockServer(wireMockConfig().httpDisabled(true).dynamicHttpsPort());
        secure.start();
        try {
            secure.stubFor(get("/secure").willReturn(ok("never read")));
            CircuitBreaker breaker = CircuitBreaker.of("test", CircuitBreakerConfig.custom()
                    .ignoreException(failure -> !BackendFailures.countsAgainstTheBackend(failure)).build());
            BackendRequest untrusted = BackendRequest.get("test_callback", URI.create(secure.baseUrl() + "/secure"), GENEROUS);

            BackendFailure failure = failure(() -> backend(builder().retryPolicy(THREE_ATTEMPTS).circuitBreaker(breaker))
                    .call(untrusted, TEXT_OF_A_2XX));

            assertThat(failure.kind()).as("WireMock's self-signed certificate").isEqualTo(Kind.CERTIFICATE);
            assertThat(failure.getMessage()).startsWith("certificate refused: SSLHandshakeException").doesNotContain("127.0.0.1");
            assertThat(failure.attempts()).as("the next attempt would be shown the same certificate").isEqualTo(1);
            assertThat(breaker.getMetrics().getNumberOfFailedCalls()).as("every request meets it alike").isEqualTo(1);
            secure.verify(0, getRequestedFor(urlEqualTo("/secure")));
        } finally {
            secure.stop();
        }
    }

    @Test
    void slowReplyIsATimeoutCountedAsSuch() {
        server.stubFor(get("/slow").willReturn(ok().withFixedDelay(3_000)));
        BackendRequest impatient = BackendRequest.get("test_callback", URI.create(server.baseUrl() + "/slow"), Duration.ofMillis(200));

        BackendFailure failure = failure(() -> backend(builder()).call(impatient, TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(failure.getMessage()).startsWith("no answer after ");
        assertThat(attempts("timeout")).isEqualTo(1);
    }

    @Test
    void bodyThatTricklesPastTheTimeoutIsCutOffAsATimeout() {
        // the head comes at once, then a chunk every 200 ms for 4 s: only the body runs late
        server.stubFor(get("/trickle").willReturn(ok("x".repeat(2000)).withChunkedDribbleDelay(20, 4_000)));
        server.stubFor(get("/warm").willReturn(ok()));
        Backend backend = backend(builder());
        // a first call warms the client and the server, so that the head of the next one is not late
        backend.call(BackendRequest.get("test_callback", URI.create(server.baseUrl() + "/warm"), GENEROUS), BackendReply::status);
        BackendRequest impatient = BackendRequest.get("test_callback", URI.create(server.baseUrl() + "/trickle"), Duration.ofSeconds(1));

        BackendFailure failure = failure(() -> backend.call(impatient, TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(failure.getMessage()).startsWith("no answer after ");
        assertThat(attempts("timeout")).isEqualTo(1);
    }

    @Test
    void callerInterruptedWhileWaitingGetsAnInterruptionNotARetry() throws Exception {
        server.stubFor(get("/slow").willReturn(ok().withFixedDelay(10_000)));
        Backend backend = backend(builder().retryPolicy(THREE_ATTEMPTS));
        CompletableFuture<BackendFailure> outcome = new CompletableFuture<>();
        Thread caller = Thread.ofVirtual().start(() -> outcome.complete(failure(() -> backend.call(getting("/slow"), TEXT_OF_A_2XX))));
        long deadline = System.nanoTime() + GENEROUS.toNanos();
        while (server.getAllServeEvents().isEmpty()) {
            assertThat(System.nanoTime()).as("the request reached the server").isLessThan(deadline);
            Thread.sleep(10);
        }

        caller.interrupt();

        BackendFailure failure = outcome.get(5, TimeUnit.SECONDS);
        assertThat(failure.kind()).isEqualTo(Kind.INTERRUPTED);
        server.verify(1, getRequestedFor(urlEqualTo("/slow")));
    }

    @Test
    void failureQuotingWhatTheBackendSentCannotForgeALogLineOrRecolourATerminal() throws IOException {
        // the JDK refuses the status line and quotes it in its message, escape sequence and all
        URI colouring = rawServer("HTTP/1.1 2x0 \u001b[31mred\r\nContent-Length: 0\r\n\r\n");

        BackendFailure failure = failure(() -> backend(builder()).call(BackendRequest.get("test_callback", colouring, GENEROUS),
                TEXT_OF_A_2XX));

        assertThat(failure.getMessage()).contains("\\u001B[31mred").doesNotContain("\u001b");
        assertThat(BackendFailure.unusable("expected a string, got \"\u202Eevil\u2028\u0085\"").getMessage())
                .isEqualTo("unusable answer: expected a string, got \"\\u202Eevil\\u2028\\u0085\"");
    }

    @Test
    void replyTheClientItselfCannotParseIsAFailureOfTheBackendRetriedAndTimed() throws IOException {
        // the JDK client throws a NumberFormatException of its own for this header, no IOException
        URI garbled = rawServer("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n");

        BackendFailure failure = failure(() -> backend(builder().retryPolicy(THREE_ATTEMPTS))
                .call(BackendRequest.get("test_callback", garbled, GENEROUS), TEXT_OF_A_2XX));

        assertThat(failure.kind()).isEqualTo(Kind.UNREACHABLE);
        assertThat(failure.getMessage()).isEqualTo("the HTTP client failed: NumberFormatException");
        assertThat(failure.attempts()).isEqualTo(3);
        assertThat(attempts("error")).isEqualTo(3);
    }

    @Test
    void bearerTokenAndJsonHeadersAreSent() {
        server.stubFor(post("/json").willReturn(ok()));

        backend(builder().bearerToken(Optional.of("s3cr3t"))).call(posting("/json"), BackendReply::status);

        server.verify(postRequestedFor(urlEqualTo("/json")).withHeader("Authorization", equalTo("Bearer s3cr3t"))
                .withHeader("Content-Type", equalTo("application/json")).withHeader("Accept", equalTo("application/json")));
    }

    @Test
    void bearerTokenThatNoHeaderCanCarryIsRefusedWithoutQuotingIt() {
        assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> builder().bearerToken(Optional.of("s3cr3t\nsecond-line")))
                .withMessage("bearer token: the token must be one word of visible ASCII on one line (no 'Bearer ', "
                        + "no second line), but character 7 is U+000A");
    }

    // ---- circuit breaker

    @Test
    void openCircuitAnswersWithoutARequestAndTheFailuresThatOpenedItAreReported() {
        server.stubFor(get("/down").willReturn(aResponse().withStatus(500)));
        CircuitBreaker breaker = CircuitBreaker.of("test", CircuitBreakerConfig.custom().slidingWindowSize(2).minimumNumberOfCalls(2)
                .waitDurationInOpenState(Duration.ofHours(1)).ignoreException(failure -> !BackendFailures.countsAgainstTheBackend(failure))
                .build());
        Backend backend = backend(builder().retryPolicy(THREE_ATTEMPTS).circuitBreaker(breaker));

        BackendFailure opening = failure(() -> backend.call(getting("/down"), TEXT_OF_A_2XX));
        BackendFailure open = failure(() -> backend.call(getting("/down"), TEXT_OF_A_2XX));

        assertThat(opening.getMessage()).isEqualTo("HTTP 500");
        assertThat(opening.attempts()).as("the third attempt found the circuit open").isEqualTo(2);
        assertThat(open.kind()).isEqualTo(Kind.CIRCUIT_OPEN);
        assertThat(open.attempts()).isZero();
        server.verify(2, getRequestedFor(urlEqualTo("/down")));
    }

    @Test
    void bugOfTheReaderGoesUpAsItIsAndDoesNotCountAgainstTheBackend() {
        server.stubFor(get("/fine").willReturn(ok()));
        CircuitBreaker breaker = CircuitBreaker.of("test", CircuitBreakerConfig.custom()
                .ignoreException(failure -> !BackendFailures.countsAgainstTheBackend(failure)).build());
        Backend backend = backend(builder().circuitBreaker(breaker));

        assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> backend.call(getting("/fine"), reply -> {
            throw new IllegalStateException("a bug");
        }));
        assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isZero();
    }

    // ---- the log line

    @Test
    void errorDuringATrialCallGivesBackItsPermissionSoTheBreakerCanCloseAgain() {
        server.stubFor(get("/fine").willReturn(ok()));
        CircuitBreaker breaker = CircuitBreaker.of("test", CircuitBreakerConfig.custom().permittedNumberOfCallsInHalfOpenState(1)
                .ignoreException(failure -> !BackendFailures.countsAgainstTheBackend(failure)).build());
        Backend backend = backend(builder().circuitBreaker(breaker));
        breaker.transitionToOpenState();
        breaker.transitionToHalfOpenState();

        // Resilience4j records no Error: without the permission back, the breaker waits half-open for good
        assertThatExceptionOfType(StackOverflowError.class).isThrownBy(() -> backend.call(getting("/fine"), reply -> {
            throw new StackOverflowError();
        }));

        assertThat(backend.call(getting("/fine"), BackendReply::status)).isEqualTo(200);
        assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void failedQuestionIsOneWarnLineNamingModuleCallbackAttemptsCauseAndAnswer() {
        server.stubFor(get("/down").willReturn(aResponse().withStatus(502)));
        ListAppender<ILoggingEvent> logs = watchLogs();

        String answer = backend(builder().retryPolicy(THREE_ATTEMPTS)).ask(getting("/down"), TEXT_OF_A_2XX,
                () -> FailureAnswer.of(FailureMode.FAIL_OPEN, "fallback", "let through"));

        assertThat(answer).isEqualTo("fallback");
        assertThat(logs.list).filteredOn(event -> event.getLevel() == Level.WARN).singleElement().satisfies(warning -> {
            assertThat(warning.getFormattedMessage())
                    .isEqualTo("Module test: test_callback failed after 3 attempts (HTTP 502); failing open: let through");
            assertThat(warning.getKeyValuePairs()).extracting(pair -> pair.key + "=" + pair.value)
                    .containsExactly("module=test", "callback=test_callback", "failure=error");
            assertThat(warning.getThrowableProxy()).isNull();
        });
    }

    @Test
    void callAnsweredByTheOpenCircuitLogsNoWarning() {
        CircuitBreaker open = CircuitBreaker.ofDefaults("open");
        open.transitionToOpenState();
        ListAppender<ILoggingEvent> logs = watchLogs();

        String answer = backend(builder().circuitBreaker(open)).ask(getting("/anything"), TEXT_OF_A_2XX,
                () -> FailureAnswer.of(FailureMode.FAIL_CLOSED, "denied", "denied"));

        assertThat(answer).isEqualTo("denied");
        assertThat(logs.list).noneMatch(event -> event.getLevel().isGreaterOrEqual(Level.WARN));
        server.verify(0, getRequestedFor(urlEqualTo("/anything")));
    }

    // ---- helpers

    /** A server that answers every request with {@code reply} and hangs up. */
    private URI rawServer(String reply) throws IOException {
        ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        rawServers.add(listener);
        answerEach(listener, socket -> {
            requestHead(socket);
            socket.getOutputStream().write(reply.getBytes(StandardCharsets.US_ASCII));
        });
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/raw");
    }

    /**
     * A server that answers every request with {@code head} and {@code bodyBytes} zeros, then sends
     * nothing more and holds the connection until the client hangs up.
     */
    private URI holdingServer(String head, int bodyBytes) throws IOException {
        ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        rawServers.add(listener);
        answerEach(listener, socket -> {
            requestHead(socket);
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(new byte[bodyBytes]);
            socket.getOutputStream().flush();
            while (socket.getInputStream().read() >= 0) {
                // held until the client hangs up
            }
        });
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/held");
    }

    private Backend.Builder builder() {
        return Backend.builder(new ModuleContext("test", "example.com", registry), GENEROUS);
    }

    private Backend backend(Backend.Builder builder) {
        Backend backend = builder.build();
        opened.add(backend);
        return backend;
    }

    private static BackendRequest getting(String path) {
        return BackendRequest.get("test_callback", URI.create(server.baseUrl() + path), GENEROUS);
    }

    private static BackendRequest posting(String path) {
        return BackendRequest.post("test_callback", URI.create(server.baseUrl() + path), "{}".getBytes(StandardCharsets.UTF_8), GENEROUS);
    }

    private static BackendFailure failure(Runnable call) {
        return catchThrowableOfType(BackendFailure.class, call::run);
    }

    /** Every event of the backend's logger, at every level, until the test ends. */
    private ListAppender<ILoggingEvent> watchLogs() {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        backendLogger.addAppender(logs);
        return logs;
    }

    private long attempts(String outcome) {
        return registry.get(BackendTimer.NAME).tag("module", "test").tag("outcome", outcome).timer().count();
    }
}
