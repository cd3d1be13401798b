package dev.matrixpolicy.gateway.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Ports;
import dev.matrixpolicy.gateway.support.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The shared-state contract against a real redis-server, and what only Redis does: share, fail, heal. */
class RedisStateTest extends SharedStateContract {
    private static final Duration TIMEOUT = Duration.ofMillis(200);

    /** Lettuce's line while a test has Redis stopped. */
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("Cannot reconnect to");

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private static RedisState state;

    @BeforeAll
    static void connect() {
        state = connected(new RedisState(redis.url(), TIMEOUT, "mpg-test:", meters));
    }

    @AfterAll
    static void disconnect() {
        state.close();
    }

    @Override
    SharedState state() {
        return state;
    }

    @Test
    void twoClientsOfOneRedisShareOneBucket() {
        String key = "shared:" + UUID.randomUUID();
        Bucket bucket = new Bucket(3, Duration.ofMinutes(1));
        try (RedisState other = connected(new RedisState(redis.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry()))) {
            assertThat(state.take(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(other.take(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(state.take(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(other.take(key, bucket)).isInstanceOf(Take.Refused.class);
        }
    }

    @Test
    void aBucketSomethingElseWroteNonsenseIntoIsAnEmptyBucketNotADebtOfAges() {
        String key = "tampered:" + UUID.randomUUID();
        Bucket bucket = new Bucket(3, Duration.ofSeconds(30));
        try (io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
             io.lettuce.core.api.StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().hset("mpg-test:" + key, java.util.Map.of("tokens", "-1e308", "updated", "1"));
        }

        assertThat(state.take(key, bucket)).isEqualTo(new Take.Refused(Duration.ofSeconds(10)));

        String text = "text:" + UUID.randomUUID();
        try (io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
             io.lettuce.core.api.StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().hset("mpg-test:" + text, java.util.Map.of("tokens", "abc", "updated", "yesterday"));
        }
        assertThat(state.take(text, bucket)).isEqualTo(new Take.Refused(Duration.ofSeconds(10)));
    }

    @Test
    void theKeyPrefixSeparatesGateways() {
        String key = "prefixed:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1, Duration.ofMinutes(1));
        try (RedisState other = connected(new RedisState(redis.url(), TIMEOUT, "another-gateway:", new SimpleMeterRegistry()))) {
            assertThat(state.take(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(other.take(key, bucket)).isEqualTo(Take.ALLOWED);
        }
    }

    @Test
    void aRedisThatIsNotThereFailsWithinTheTimeoutAndIsCounted() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RedisState nowhere = new RedisState("redis://127.0.0.1:" + Ports.unusedPort(), TIMEOUT, "mpg:", registry)) {
            long start = System.nanoTime();

            assertThatThrownBy(() -> nowhere.take("k", new Bucket(1, Duration.ofSeconds(1))))
                    .isInstanceOf(StateUnavailableException.class).hasMessageStartingWith("Redis did not answer");

            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThat(registry.get("policy.state.failures").tag("operation", "take").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void aRestartedRedisIsUsedAgainWithoutANewClient() throws InterruptedException {
        String key = "restart:" + UUID.randomUUID();
        Bucket bucket = new Bucket(5, Duration.ofMinutes(1));
        try (RedisState client = connected(new RedisState(redis.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry()))) {
            assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);

            redis.stop();
            assertThatThrownBy(() -> client.take(key, bucket)).isInstanceOf(StateUnavailableException.class);
            redis.start();

            assertThat(eventually(() -> client.take(key, bucket))).isEqualTo(Take.ALLOWED);
            assertThat(client.countDistinct(key + ":window", "m", Duration.ofMinutes(1))).isEqualTo(1);
        } finally {
            redis.start();
        }
    }

    private static RedisState connected(RedisState state) {
        assertThat(state.awaitConnection(Duration.ofSeconds(10))).as("connected to " + redis.url()).isTrue();
        return state;
    }

    /** Retries while the client reconnects (at most a second between attempts). */
    static Take eventually(java.util.function.Supplier<Take> take) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return take.get();
            } catch (StateUnavailableException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }
}
