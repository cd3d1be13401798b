package dev.matrixpolicy.gateway.api;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.policyserver.Pdu;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.SigningHomeserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.convention.TestBean;
import tools.jackson.databind.node.ObjectNode;

/**
 * The policy server's own rate limit as homeservers meet it, over real HTTP with signed requests: three
 * new events per homeserver at once, then one per 20 minutes, on a ticker the test steps instead of
 * waiting.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // no file watcher: a reload reads the profile's file without the key file this test sets, and is refused
        properties = {"management.server.port=0", "policy-gateway.policy-server.port=0", "policy-gateway.reload.watch=false",
                "policy-gateway.policy-server.rate-limit.capacity=3", "policy-gateway.policy-server.rate-limit.period=1h"})
@ActiveProfiles("policyserver")
class PolicyServerRateLimitEndToEndTest {
    private static final String ROOM = "!served:hs.test";
    private static final String POLICY_SERVER = "policy.test";
    private static final Duration ONE_TOKEN = Duration.ofMinutes(20);
    private static final AtomicLong NOW = new AtomicLong();
    private static final AtomicInteger EVENTS = new AtomicInteger();
    private static final Path KEY_FILE;
    /** The homeserver that asks about more new events than it may. */
    private static final SigningHomeserver FLOODER;
    /** A homeserver asking at its own pace, whose allowance another may try to spend. */
    private static final SigningHomeserver HONEST;

    static {
        try {
            KEY_FILE = Files.createTempDirectory("policy-server").resolve("policy_server.key");
            PolicyServerKey.generate(KEY_FILE);
            FLOODER = new SigningHomeserver("hs.test");
            HONEST = new SigningHomeserver("other.test");
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    @DynamicPropertySource
    static void policyServer(DynamicPropertyRegistry registry) {
        registry.add("policy-gateway.policy-server.key-file", KEY_FILE::toString);
        List<SigningHomeserver> servers = List.of(FLOODER, HONEST);
        for (int i = 0; i < servers.size(); i++) {
            SigningHomeserver server = servers.get(i);
            registry.add("policy-gateway.policy-server.servers[" + i + "].name", server::name);
            registry.add("policy-gateway.policy-server.servers[" + i + "].address", () -> server.address().toString());
        }
    }

    @TestBean
    LongSupplier policyServerTicker;

    /** The rate limit's time: stepped by the tests, never waited for. */
    static LongSupplier policyServerTicker() {
        return NOW::get;
    }

    @AfterAll
    static void stopHomeservers() {
        FLOODER.close();
        HONEST.close();
    }

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @Autowired
    WebServerApplicationContext context;

    URI federation;
    final HttpClient http = HttpClient.newHttpClient();

    /** Every bucket full again: a day later, for each test. */
    @BeforeEach
    void aDayLaterWithTheFederationListener() {
        NOW.addAndGet(Duration.ofDays(1).toNanos());
        federation = PolicyServerEndToEndTest.federationListener(context, port);
    }

    private Answer send(HttpRequest request) {
        return PolicyServerEndToEndTest.send(http, request);
    }

    /** A new event of {@code server}'s user, validly signed by it, never asked about before. */
    private static ObjectNode newEvent(SigningHomeserver server) {
        return server.message("10", ROOM, "@user:" + server.name(), "message " + EVENTS.incrementAndGet());
    }

    private Answer ask(SigningHomeserver server, ObjectNode event) {
        return send(server.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, event));
    }

    private void spendAllowance(SigningHomeserver server) {
        for (int i = 0; i < 3; i++) {
            Answer answer = ask(server, newEvent(server));
            assertThat(answer.status()).as("new event %d of 3: %s", i + 1, answer.body()).isEqualTo(200);
        }
    }

    @Test
    void aHomeserverAskingAboutMoreNewEventsThanItMayIsAnswered429WithRetryAfterWhileAnotherIsStillSigned() {
        spendAllowance(FLOODER);

        Answer limited = ask(FLOODER, newEvent(FLOODER));
        ObjectNode legacy = newEvent(FLOODER);
        Answer legacyLimited = send(FLOODER.signedPost(federation, "/_matrix/policy/unstable/org.matrix.msc4284/event/"
                + Pdu.of("10", legacy).eventId() + "/check", POLICY_SERVER, legacy));
        Answer honest = ask(HONEST, newEvent(HONEST));

        assertThat(limited.status()).as(limited.body()).isEqualTo(429);
        assertThat(limited.json().path("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
        long retryAfterMs = limited.json().path("retry_after_ms").asLong();
        assertThat(retryAfterMs).isEqualTo(ONE_TOKEN.toMillis());
        assertThat(limited.header("Retry-After")).isEqualTo(Long.toString(ONE_TOKEN.toSeconds()));
        assertThat(legacyLimited.status()).as(legacyLimited.body()).isEqualTo(429);
        assertThat(honest.status()).as(honest.body()).isEqualTo(200);
        assertThat(scrape(managementPort))
                .contains("endpoint=\"sign\",outcome=\"limit_exceeded\"").contains("endpoint=\"check\",outcome=\"limit_exceeded\"")
                .containsPattern("(?m)^policy_server_rate_limited_origins_total\\{[^}]*} [1-9]");
    }

    /** Answers given before cost no chain run nor cache slot: asked again, by anyone, they are not counted. */
    @Test
    void anEventAlreadyAnsweredIsAnsweredToAHomeserverOverItsLimit() {
        ObjectNode answeredBefore = newEvent(HONEST);
        assertThat(ask(HONEST, answeredBefore).status()).isEqualTo(200);
        spendAllowance(FLOODER);

        Answer again = ask(FLOODER, answeredBefore);

        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.json().path(POLICY_SERVER).path(PolicyServerKey.KEY_ID).asString()).isNotEmpty();
        assertThat(ask(FLOODER, newEvent(FLOODER)).status()).isEqualTo(429);
    }

    /**
     * The limit is taken once the request's own signature proved who asks: requests naming another
     * server as their origin, signed with the sender's key, are refused 401 and spend none of its allowance.
     */
    @Test
    void requestsForgedInAnotherHomeserversNameSpendNoneOfItsAllowance() {
        for (int i = 0; i < 5; i++) {
            ObjectNode event = newEvent(HONEST);
            String forged = FLOODER.authorization("POST", PolicyServerServlet.SIGN, POLICY_SERVER, event)
                    .replace("origin=\"" + FLOODER.name() + "\"", "origin=\"" + HONEST.name() + "\"");
            HttpRequest request = HttpRequest.newBuilder(federation.resolve(PolicyServerServlet.SIGN))
                    .header("Authorization", forged).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(event.toString())).build();
            assertThat(send(request).status()).isEqualTo(401);
        }

        spendAllowance(HONEST);
    }

    @Test
    void anEmptiedAllowanceRefillsAsTimePasses() {
        spendAllowance(FLOODER);
        assertThat(ask(FLOODER, newEvent(FLOODER)).status()).isEqualTo(429);

        NOW.addAndGet(ONE_TOKEN.toNanos());

        assertThat(ask(FLOODER, newEvent(FLOODER)).status()).isEqualTo(200);
        Answer next = ask(FLOODER, newEvent(FLOODER));
        assertThat(next.status()).isEqualTo(429);
        assertThat(next.json().path("retry_after_ms").asLong()).isEqualTo(ONE_TOKEN.toMillis());
    }
}
