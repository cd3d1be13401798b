package dev.matrixpolicy.gateway.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.RedisServer;
import dev.matrixpolicy.gateway.support.TcpForwarder;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A failover behind one address, as a managed Redis's primary endpoint moves: the Redis the gateway
 * is connected to becomes a replica, which answers every write {@code READONLY}, and the address
 * leads to the new primary for connections made from then on.
 */
class RedisFailoverTest {
    private static final Duration TIMEOUT = Duration.ofMillis(200);

    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("Redis answered READONLY");

    @RegisterExtension
    static final RedisServer first = new RedisServer();

    @RegisterExtension
    static final RedisServer second = new RedisServer();

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(RedisState.class, Level.INFO);

    @Test
    void aPrimaryTurnedReplicaIsLeftForWhereTheAddressLeadsNowWithOneWarn() throws InterruptedException {
        String key = "failover:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        try (TcpForwarder endpoint = new TcpForwarder(first.port());
             RedisState state = new RedisState(endpoint.redisUrl(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry())) {
            assertThat(state.awaitConnection(Duration.ofSeconds(10))).isTrue();
            assertThat(state.take(key, bucket)).isEqualTo(Take.ALLOWED);

            endpoint.target(second.port());
            direct(first, redis -> redis.replicaof("127.0.0.1", second.port()));
            try {
                assertThatThrownBy(() -> state.take(key, bucket)).isInstanceOf(StateUnavailableException.class)
                        .hasMessageContaining("READONLY");
                assertThat(RedisStateTest.eventually(() -> state.take(key, bucket))).isEqualTo(Take.ALLOWED);
                assertThat(state.countDistinct(key + ":window", "m", Duration.ofMinutes(1))).isEqualTo(1);
            } finally {
                direct(first, redis -> redis.replicaofNoOne());
            }
            assertThat(lines.all()).filteredOn(line -> line.contains("READONLY")).hasSize(1);
            assertThat(lines.all()).contains("Redis accepts writes again");
        }
    }

    /** A replica answers what writes nothing (an empty bucket's refusal): that is no news that writes work again. */
    @Test
    void aReplicaStaysOneWarnWhileCallsThatWriteNothingSucceedBetweenItsReadonlyAnswers() throws InterruptedException {
        String empty = "empty:" + UUID.randomUUID();
        String full = "full:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1, Duration.ofMinutes(1));
        try (TcpForwarder endpoint = new TcpForwarder(first.port());
             RedisState state = new RedisState(endpoint.redisUrl(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry());
             RedisState primary = new RedisState(second.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry())) {
            assertThat(state.awaitConnection(Duration.ofSeconds(10))).isTrue();
            assertThat(primary.awaitConnection(Duration.ofSeconds(10))).isTrue();
            assertThat(primary.take(empty, bucket)).isEqualTo(Take.ALLOWED);
            direct(first, redis -> redis.replicaof("127.0.0.1", second.port()));
            try {
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                        .until(() -> state.take(empty, bucket) instanceof Take.Refused);
                long until = System.nanoTime() + Duration.ofMillis(2_500).toNanos();
                while (System.nanoTime() < until) {
                    assertThatThrownBy(() -> state.take(full, bucket)).isInstanceOf(StateUnavailableException.class);
                    await().atMost(Duration.ofSeconds(2)).ignoreExceptions()
                            .until(() -> state.take(empty, bucket) instanceof Take.Refused);
                }
            } finally {
                direct(first, redis -> redis.replicaofNoOne());
            }
            assertThat(lines.all()).filteredOn(line -> line.contains("READONLY")).hasSize(1);
            assertThat(lines.all()).doesNotContain("Redis accepts writes again");
        }
    }

    private static void direct(RedisServer server, java.util.function.Consumer<RedisCommands<String, String>> command) {
        try (RedisClient client = RedisClient.create(server.url());
             StatefulRedisConnection<String, String> connection = client.connect()) {
            command.accept(connection.sync());
        }
    }
}
