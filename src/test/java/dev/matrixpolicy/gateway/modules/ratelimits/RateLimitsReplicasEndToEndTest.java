package dev.matrixpolicy.gateway.modules.ratelimits;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two gateway replicas, two Spring Boot contexts in this JVM, sharing one real redis-server: they
 * enforce one limit between them, fail by each entry's {@code on-failure} while Redis is down, and
 * heal by themselves when it is back.
 */
class RateLimitsReplicasEndToEndTest {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed on", "Redis connection lost, and reconnecting failed");

    private static final String TOKEN = "rate-limits-token";
    private static final String EVENTS = "/v1/spam_checker/check_event_for_spam";

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    @TempDir
    static Path directory;

    private static ConfigurableApplicationContext first;
    private static ConfigurableApplicationContext second;
    private static GatewayClient a;
    private static GatewayClient b;

    @BeforeAll
    static void startTwoReplicas() throws IOException {
        Path config = Files.writeString(directory.resolve("rate-limits.yml"), """
                policy-gateway:
                  server-name: example.com
                  auth:
                    token: %s
                  reload:
                    watch: false
                  state:
                    redis:
                      url: %s
                      # Above the 200ms default: on a busy build machine a command to the local Redis
                      # has taken longer. A stopped Redis still fails at once (not connected).
                      timeout: 2s
                      key-prefix: "replicas-test:"
                  modules:
                    - module: rate_limits
                      name: floods
                      config:
                        events:
                          per-sender: {capacity: 5, period: 1h}
                        joins:
                          per-room: {capacity: 3, period: 1h}
                          error: This room is being joined too fast
                        exempt: ["@admin:example.com"]
                    - module: rate_limits
                      name: invites
                      on-failure: fail-open
                      config:
                        invites:
                          per-sender: {capacity: 2, period: 1h}
                    - module: rate_limits
                      name: trial
                      mode: shadow
                      config:
                        room-creation:
                          per-sender: {capacity: 1, period: 1h}
                """.formatted(TOKEN, redis.url()));
        first = start(config);
        second = start(config);
        a = new GatewayClient(port(first, "local.server.port"), TOKEN);
        b = new GatewayClient(port(second, "local.server.port"), TOKEN);
    }

    @AfterAll
    static void stopReplicas() {
        for (GatewayClient client : new GatewayClient[] {a, b}) {
            if (client != null) {
                client.close();
            }
        }
        for (ConfigurableApplicationContext gateway : new ConfigurableApplicationContext[] {first, second}) {
            if (gateway != null) {
                gateway.close();
            }
        }
    }

    @Test
    void nPlusOneEventsSplitAcrossTwoReplicasHaveTheLastOneRefused() {
        String sender = newUser();
        for (int i = 0; i < 5; i++) {
            Answer allowed = (i % 2 == 0 ? a : b).post(EVENTS, event(sender));
            assertThat(allowed.status()).as("event %d", i + 1).isEqualTo(200);
        }

        Answer refused = b.post(EVENTS, event(sender));

        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().get("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(refused.json().get("retry_after_ms").asLong()).isBetween(1L, Duration.ofMinutes(12).toMillis());
        assertThat(a.post(EVENTS, event(newUser())).status()).as("another sender").isEqualTo(200);
    }

    @Test
    void anExplanationAnswersFromTheSharedBucketsWithoutTakingFromThem() {
        String sender = newUser();
        GatewayClient management = new GatewayClient(port(first, "local.management.port"), null);
        for (int i = 0; i < 8; i++) {
            Answer explained = management.post("/actuator/explain/spam_checker/check_event_for_spam", event(sender));
            assertThat(explained.json().path("status").asInt()).as("explanation %d", i + 1).isEqualTo(200);
        }
        for (int i = 0; i < 5; i++) {
            assertThat((i % 2 == 0 ? a : b).post(EVENTS, event(sender)).status()).as("event %d", i + 1).isEqualTo(200);
        }

        Answer explainedOnceEmpty = management.post("/actuator/explain/spam_checker/check_event_for_spam", event(sender));

        assertThat(explainedOnceEmpty.json().path("status").asInt()).isEqualTo(403);
        assertThat(explainedOnceEmpty.json().at("/answer/errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(b.post(EVENTS, event(sender)).status()).isEqualTo(403);
    }

    @Test
    void aJoinWaveIsRefusedPerRoomWhoeverJoins() {
        String room = "!" + UUID.randomUUID() + ":example.com";
        for (int i = 0; i < 3; i++) {
            assertThat((i % 2 == 0 ? a : b).post("/v1/spam_checker/user_may_join_room", join(newUser(), room)).status())
                    .isEqualTo(200);
        }

        Answer refused = a.post("/v1/spam_checker/user_may_join_room", join(newUser(), room));

        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().get("error").asString()).isEqualTo("This room is being joined too fast");
    }

    @Test
    void exemptUsersAreNeverLimited() {
        for (int i = 0; i < 8; i++) {
            assertThat((i % 2 == 0 ? a : b).post(EVENTS, event("@admin:example.com")).status()).isEqualTo(200);
        }
    }

    @Test
    void inShadowModeTheLimitIsCountedButNothingIsRefused() {
        String creator = newUser();
        String body = "{\"user_id\": \"" + creator + "\"}";

        assertThat(a.post("/v1/spam_checker/user_may_create_room", body).status()).isEqualTo(200);
        assertThat(b.post("/v1/spam_checker/user_may_create_room", body).status()).isEqualTo(200);

        assertThat(scrape(port(second, "local.management.port"))).containsPattern(
                "policy_shadow_answers_total\\{[^}]*callback=\"user_may_create_room\"[^}]*module=\"trial\"[^}]*outcome=\"deny\"[^}]*} 1");
    }

    @Test
    void whileRedisIsDownEachEntryFailsByItsOnFailureAndAfterItsRestartLimitsHoldAgain() {
        String sender = newUser();
        assertThat(a.post(EVENTS, event(sender)).status()).isEqualTo(200);
        redis.stop();
        try {
            Answer failedClosed = a.post(EVENTS, event(sender));
            Answer failedOpen = b.post("/v1/spam_checker/user_may_invite", invite(sender));

            assertThat(failedClosed.status()).isEqualTo(503);
            assertThat(failedClosed.json().get("errcode").asString()).isEqualTo("M_UNKNOWN");
            assertThat(failedOpen.status()).isEqualTo(200);
            assertThat(failedOpen.json().get("result").asString()).isEqualTo("NOT_SPAM");
            assertThat(scrape(port(first, "local.management.port")))
                    .containsPattern("policy_state_failures_total\\{[^}]*operation=\"take\"[^}]*} [1-9]");
        } finally {
            redis.start();
        }

        // The restarted Redis is empty: the sender starts over, with no gateway restarted. Each
        // replica reconnects on its own: b is waited for with another sender, whose tokens are its own.
        eventually(() -> a.post(EVENTS, event(sender)).status() == 200);
        String bystander = newUser();
        eventually(() -> b.post(EVENTS, event(bystander)).status() == 200);
        for (int i = 0; i < 4; i++) {
            assertThat((i % 2 == 0 ? b : a).post(EVENTS, event(sender)).status()).isEqualTo(200);
        }
        assertThat(b.post(EVENTS, event(sender)).status()).isEqualTo(403);
    }

    private static ConfigurableApplicationContext start(Path config) {
        return new SpringApplicationBuilder(PolicyGatewayApplication.class).run(List.of(
                "--spring.config.additional-location=file:" + config, "--server.port=0", "--management.server.port=0")
                .toArray(String[]::new));
    }

    private static int port(ConfigurableApplicationContext gateway, String property) {
        return Integer.parseInt(gateway.getEnvironment().getProperty(property));
    }

    private static void eventually(Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as("healed within 15 s").isLessThan(deadline);
            try {
                Thread.sleep(200);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(interrupted);
            }
        }
    }

    private static String newUser() {
        return "@user-" + UUID.randomUUID() + ":example.com";
    }

    private static String event(String sender) {
        return "{\"event\": {\"event_id\": \"$" + UUID.randomUUID() + "\", \"room_id\": \"!room:example.com\","
                + " \"type\": \"m.room.message\", \"sender\": \"" + sender + "\","
                + " \"content\": {\"msgtype\": \"m.text\", \"body\": \"hello\"}}}";
    }

    private static String join(String user, String room) {
        return "{\"user\": \"" + user + "\", \"room\": \"" + room + "\", \"is_invited\": false}";
    }

    private static String invite(String inviter) {
        return "{\"inviter\": \"" + inviter + "\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}";
    }
}
