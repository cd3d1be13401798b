package dev.matrixpolicy.gateway.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.Ports;
import dev.matrixpolicy.gateway.support.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The shared-state contract against a real redis-server, and what only Redis does: share, fail, heal. */
class RedisStateTest extends SharedStateContract {
    private static final Duration TIMEOUT = Duration.ofMillis(200);

    /**
     * Lettuce's lines and ours while a test has Redis stopped or refusing; ours while it has Redis hung;
     * Lettuce's for each call past the commands a connection holds (the embedded configuration keeps
     * Lettuce's out of the log).
     */
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("Cannot reconnect to", "Redis answered no call within its timeout for",
            "Redis connection lost, and reconnecting failed", "Redis reconnection still failing",
            "Internal stack size exceeded", "Redis held something other than");

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    /** A Redis no other test's client uses, for a gateway that starts while it is down. */
    @RegisterExtension
    static final RedisServer upLater = new RedisServer();

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(RedisState.class, Level.INFO);

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
        direct(redis -> redis.hset("mpg-test:" + key, java.util.Map.of("tokens", "-1e308", "updated", "1")));

        assertThat(state.take(key, bucket)).isEqualTo(new Take.Refused(Duration.ofSeconds(10)));

        String text = "text:" + UUID.randomUUID();
        direct(redis -> redis.hset("mpg-test:" + text, java.util.Map.of("tokens", "abc", "updated", "yesterday")));
        assertThat(state.take(text, bucket)).isEqualTo(new Take.Refused(Duration.ofSeconds(10)));
    }

    @Test
    void aBucketSomethingElseWroteIsMadeABucketAgainThatRefillsAndExpires() throws InterruptedException {
        String key = "ahead:" + UUID.randomUUID();
        String members = "members:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1, Duration.ofMillis(300));
        direct(redis -> redis.hset("mpg-test:" + key, java.util.Map.of("tokens", "0", "updated", "9e18"))); // no TTL
        direct(redis -> redis.zadd("mpg-test:" + members, Double.POSITIVE_INFINITY, "stuck"));

        assertThat(state.take(key, bucket)).isInstanceOf(Take.Refused.class);
        long expiresIn = direct(redis -> redis.pttl("mpg-test:" + key));
        assertThat(expiresIn).as("it expires now").isPositive();
        Thread.sleep(bucket.periodMillis() + 50);
        assertThat(state.take(key, bucket)).as("and refills").isEqualTo(Take.ALLOWED);
        assertThat(state.countDistinct(members, "mine", Duration.ofMinutes(1))).as("a member ahead of the clock does not count")
                .isEqualTo(1);
    }

    @Test
    void aBucketHoldingNotANumberIsAnEmptyBucketThatExpiresNotAFullOneOrOneStuckForever() throws InterruptedException {
        Bucket bucket = new Bucket(3, Duration.ofSeconds(30));
        List<String> time = direct(redis -> redis.time());
        String now = Long.toString(Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000);
        String count = "nan-count:" + UUID.randomUUID();
        direct(redis -> redis.hset("mpg-test:" + count, java.util.Map.of("tokens", "nan", "updated", now)));
        assertThat(eventually(() -> state.take(count, bucket))).as("a count of NaN").isEqualTo(new Take.Refused(Duration.ofSeconds(10)));

        String infinite = "inf-count:" + UUID.randomUUID();
        direct(redis -> redis.hset("mpg-test:" + infinite, java.util.Map.of("tokens", "inf", "updated", now)));
        assertThat(state.take(infinite, bucket)).as("an infinite count").isEqualTo(new Take.Refused(Duration.ofSeconds(10)));

        String at = "nan-time:" + UUID.randomUUID();
        direct(redis -> redis.hset("mpg-test:" + at, java.util.Map.of("tokens", "0", "updated", "nan"))); // no TTL
        assertThat(state.take(at, bucket)).as("a time of NaN").isEqualTo(new Take.Refused(Duration.ofSeconds(10)));
        long expiresIn = direct(redis -> redis.pttl("mpg-test:" + at));
        assertThat(expiresIn).as("written back as a bucket that expires").isPositive();
    }

    @Test
    void aKeyOfAnotherTypeIsReadAsAbsentAndWrittenOverNotAFailureOnEveryCallForEver() {
        String bucketKey = "string:" + UUID.randomUUID();
        String windowKey = "hash:" + UUID.randomUUID();
        Bucket bucket = new Bucket(2, Duration.ofSeconds(30));
        direct(redis -> redis.set("mpg-test:" + bucketKey, "written by hand")); // no TTL: it would stay
        direct(redis -> redis.hset("mpg-test:" + windowKey, "tokens", "3"));

        assertThat(state.peek(bucketKey, bucket)).as("an explanation").isEqualTo(Take.ALLOWED);
        assertThat(state.peekDistinct(windowKey, "m", Duration.ofMinutes(1))).isEqualTo(1);
        assertThat(state.take(bucketKey, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state.countDistinct(windowKey, "m", Duration.ofMinutes(1))).isEqualTo(1);

        String bucketType = direct(redis -> redis.type("mpg-test:" + bucketKey));
        String windowType = direct(redis -> redis.type("mpg-test:" + windowKey));
        assertThat(bucketType).isEqualTo("hash");
        assertThat(windowType).isEqualTo("zset");
        assertThat(state.take(bucketKey, bucket)).as("the bucket written over it, one of two tokens taken").isEqualTo(Take.ALLOWED);
        assertThat(state.take(bucketKey, bucket)).isInstanceOf(Take.Refused.class);
        long expiresIn = direct(redis -> redis.pttl("mpg-test:" + bucketKey));
        assertThat(expiresIn).as("and it expires").isPositive();
    }

    @Test
    void aBucketLackingAFieldIsReadAsFullAndSaidSoInOneWarnLineNotOneACall() {
        Bucket bucket = new Bucket(3, Duration.ofSeconds(30));
        try (RedisState client = connected(new RedisState(redis.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry()))) {
            for (String field : List.of("tokens", "updated")) {
                String key = "half-" + field + ":" + UUID.randomUUID();
                direct(redis -> redis.hset("mpg-test:" + key, field, "0")); // the other field never written
                assertThat(client.peek(key, bucket)).isEqualTo(Take.ALLOWED);
                assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);
                assertThat(client.take(key, bucket)).as("a bucket now, one token taken").isEqualTo(Take.ALLOWED);
            }
        }
        assertThat(lines.at(Level.WARN)).singleElement().asString()
                .startsWith("Redis held something other than a token bucket under a key: read as a full bucket");
    }

    /** A full Redis (maxmemory, noeviction) fails the calls, and the entry's on-failure decides. */
    @Test
    void aRedisAtMaxmemoryFailsACountAsItFailsATakeInsteadOfGrowingPastIt() {
        String key = "oom:" + UUID.randomUUID();
        direct(redis -> redis.configSet("maxmemory-policy", "noeviction"));
        direct(redis -> redis.configSet("maxmemory", "1"));
        try {
            assertThatThrownBy(() -> state.take(key, new Bucket(3, Duration.ofSeconds(30))))
                    .isInstanceOf(StateUnavailableException.class).hasMessageContaining("OOM");
            assertThatThrownBy(() -> state.countDistinct(key + ":window", "m", Duration.ofMinutes(1)))
                    .isInstanceOf(StateUnavailableException.class).hasMessageContaining("OOM");
        } finally {
            direct(redis -> redis.configSet("maxmemory", "0"));
        }
        long written = direct(redis -> redis.exists("mpg-test:" + key + ":window"));
        assertThat(written).isZero();
    }

    /** A command of the test's own on the Redis, as something else sharing it would send it. */
    private static <T> T direct(java.util.function.Function<io.lettuce.core.api.sync.RedisCommands<String, String>, T> command) {
        try (io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
             io.lettuce.core.api.StatefulRedisConnection<String, String> connection = client.connect()) {
            return command.apply(connection.sync());
        }
    }

    @Test
    void aConnectionThatAnswersNothingIsGivenUpAndTheCommandsWaitingOnItFreed() throws InterruptedException {
        String key = "hang:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        try (RedisState client = connected(new RedisState(redis.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry()))) {
            assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);
            String before = gatewayConnections();

            redis.freeze();
            try {
                long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (System.nanoTime() < until) {
                    assertThatThrownBy(() -> client.take(key, bucket)).isInstanceOf(StateUnavailableException.class);
                }
            } finally {
                redis.thaw();
            }

            assertThat(eventually(() -> client.take(key, bucket))).isEqualTo(Take.ALLOWED);
            assertThat(gatewayConnections()).as("a new connection, the silent one closed").isNotEqualTo(before)
                    .doesNotContain(before);
        }
    }

    /** Nothing asked is no silence: a call after a quiet spell that answers late is one slow answer, not a dead connection. */
    @Test
    void oneSlowAnswerAfterAQuietSpellKeepsTheConnectionAndWarnsOfNothing() throws InterruptedException {
        String key = "quiet:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        try (RedisState client = connected(new RedisState(redis.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry()))) {
            assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);
            String before = gatewayConnections();
            Thread.sleep(2_500); // longer than the 2 s a connection may go unanswered, with nothing asked

            redis.freeze();
            try {
                assertThatThrownBy(() -> client.take(key, bucket)).as("one call past the timeout")
                        .isInstanceOf(StateUnavailableException.class);
            } finally {
                redis.thaw();
            }

            assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(gatewayConnections()).as("the same connection").isEqualTo(before);
        }
        assertThat(lines.at(Level.WARN)).isEmpty();
    }

    /**
     * What finds an idle connection that a NAT or load balancer dropped (350 s idle on AWS, 4 min on
     * Azure), now that a quiet spell no longer counts as silence: Lettuce's own TCP keepalives, sent
     * after 13 s idle (the kernel's default waits 2 hours), which also keep such a connection alive.
     */
    @Test
    void anIdleConnectionIsProbedByTcpKeepalivesWithinAMinute() throws java.io.IOException {
        try (RedisState client = connected(new RedisState(redis.url() + "?clientName=kept-alive", TIMEOUT, "mpg-test:",
                new SimpleMeterRegistry()))) {
            String port = direct(watching -> java.util.Arrays.stream(watching.clientList().split("\n"))
                    .filter(line -> line.contains(" name=kept-alive ")).map(line -> line.replaceAll("^.* addr=[^ ]*:(\\d+) .*$", "$1"))
                    .findFirst().orElseThrow());
            // the kernel's table of sockets (tcp6 for the JVM's IPv6 sockets, 127.0.0.1 mapped): the local
            // address, then "tr:when", timer 02 for keepalive, due in hundredths of a second
            List<String> sockets = new ArrayList<>(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/tcp")));
            sockets.addAll(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/tcp6")));
            String socket = sockets.stream().map(String::trim)
                    .filter(line -> line.split("\\s+")[1].endsWith(String.format(":%04X", Integer.parseInt(port))))
                    .findFirst().orElseThrow();
            String[] timer = socket.split("\\s+")[5].split(":");

            assertThat(timer[0]).as("a keepalive timer").isEqualTo("02");
            assertThat(Long.parseLong(timer[1], 16)).as("due within a minute").isLessThanOrEqualTo(60 * 100);
        }
    }

    @Test
    void atMostMaxPendingCallsWaitOnAConnectionThatAnswersNothingAndTheRestFailAtOnce() throws Exception {
        String key = "queue:" + UUID.randomUUID();
        Bucket bucket = new Bucket(100_000, Duration.ofMinutes(1));
        Duration timeout = Duration.ofSeconds(2); // so that the connection is not given up while the test fills it
        try (RedisState client = connected(new RedisState(redis.url(), timeout, "mpg-test:", new SimpleMeterRegistry()))) {
            assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);
            int callers = RedisState.MAX_PENDING + 500;
            java.util.concurrent.atomic.AtomicInteger refusedAtOnce = new java.util.concurrent.atomic.AtomicInteger();
            redis.freeze();
            try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int caller = 0; caller < callers; caller++) {
                    threads.submit(() -> {
                        long start = System.nanoTime();
                        try {
                            client.take(key, bucket);
                        } catch (StateUnavailableException failed) {
                            if (Duration.ofNanos(System.nanoTime() - start).compareTo(timeout) < 0
                                    && failed.getMessage().contains("size exceeded: " + RedisState.MAX_PENDING)) {
                                refusedAtOnce.incrementAndGet();
                            }
                        }
                    });
                }
            } finally {
                redis.thaw();
            }

            assertThat(refusedAtOnce.get()).as("calls past the %d waiting, refused before their timeout", RedisState.MAX_PENDING)
                    .isGreaterThanOrEqualTo(callers - RedisState.MAX_PENDING);
            assertThat(eventually(() -> client.take(key, bucket))).isEqualTo(Take.ALLOWED);
        }
    }

    @Test
    void aLostConnectionRedisRefusesToMakeAgainIsReportedOnceInRedissWordsAsAreTheCallsFailures() throws InterruptedException {
        String key = "refused-again:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        try (RedisState client = connected(new RedisState(redis.url() + "?clientName=refused-again", TIMEOUT, "mpg-test:",
                new SimpleMeterRegistry()));
             io.lettuce.core.RedisClient admin = io.lettuce.core.RedisClient.create(redis.url());
             io.lettuce.core.api.StatefulRedisConnection<String, String> administering = admin.connect()) {
            assertThat(client.take(key, bucket)).isEqualTo(Take.ALLOWED);

            administering.sync().configSet("requirepass", "now-wanted"); // connections made before stay in
            List<String> failures = new ArrayList<>();
            try {
                administering.sync().clientKill(io.lettuce.core.KillArgs.Builder.id(clientIdNamed(administering, "refused-again")));
                // calls, while some reconnection attempts fail, until a call's failure says why
                await().atMost(Duration.ofSeconds(15)).pollInSameThread().pollInterval(Duration.ofMillis(50)).until(() -> {
                    try {
                        client.take(key, bucket);
                    } catch (StateUnavailableException failed) {
                        failures.add(failed.getMessage());
                    }
                    return client.reconnectsFailed() >= 3 && !failures.isEmpty() && failures.getLast().contains("NOAUTH");
                });
            } finally {
                administering.sync().configSet("requirepass", "");
            }

            assertThat(failures).isNotEmpty().last().asString().contains("reconnecting fails: NOAUTH");
            assertThat(eventually(() -> client.take(key, bucket))).isEqualTo(Take.ALLOWED);
            await().atMost(Duration.ofSeconds(5)).until(() -> !lines.at(Level.INFO).isEmpty());
        }
        assertThat(lines.at(Level.WARN)).as("one WARN an outage, however many attempts fail").singleElement().asString()
                .startsWith("Redis connection lost, and reconnecting failed: NOAUTH");
        assertThat(lines.at(Level.INFO)).containsExactly("Redis connection made again");
    }

    @Test
    void aConnectionRedisDropsIsWaitedForWithinTheTimeoutWhileItIsMadeAgainNotFailedAtOnce() throws Exception {
        String key = "dropped:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        try (RedisState client = connected(new RedisState(redis.url() + "?clientName=dropped", Duration.ofSeconds(2), "mpg-test:",
                new SimpleMeterRegistry()));
             io.lettuce.core.RedisClient admin = io.lettuce.core.RedisClient.create(redis.url());
             io.lettuce.core.api.StatefulRedisConnection<String, String> administering = admin.connect()) {
            for (int drop = 1; drop <= 3; drop++) {
                administering.sync().clientKill(io.lettuce.core.KillArgs.Builder.id(clientIdNamed(administering, "dropped")));
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1)).until(() -> !client.connectionUp());

                assertThat(client.take(key, bucket)).as("a call right after drop %d", drop).isEqualTo(Take.ALLOWED);
            }
        }
    }

    @Test
    void aRedisThatIsDownStillFailsACallAtOnceNotAfterItsTimeout() {
        String key = "down:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        upLater.start(); // its own Redis: stopping the one the other tests share would fail their calls while it comes back
        try (RedisState client = new RedisState(upLater.url(), Duration.ofSeconds(5), "mpg-test:", new SimpleMeterRegistry())) {
            assertThat(client.awaitConnection(Duration.ofSeconds(10))).isTrue();
            upLater.stop();
            await().atMost(Duration.ofSeconds(5)).until(() -> client.reconnectsFailed() >= 1);

            long start = System.nanoTime();
            assertThatThrownBy(() -> client.take(key, bucket)).isInstanceOf(StateUnavailableException.class)
                    .hasMessageContaining("not connected");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        } finally {
            upLater.start();
        }
    }

    @Test
    void reasonsThatAlternateWhileRedisRestartsAreToldOnceAMinuteNotOnEveryAttempt() {
        try (RedisState nowhere = new RedisState("redis://127.0.0.1:" + Ports.unusedPort(), TIMEOUT, "mpg:", new SimpleMeterRegistry())) {
            for (int attempt = 1; attempt <= 6; attempt++) {
                String why = attempt % 2 == 1 ? "Connection refused" : "Connection timed out";
                java.net.InetSocketAddress redisAt = new java.net.InetSocketAddress("127.0.0.1", 6379);
                nowhere.observe(new io.lettuce.core.event.connection.ReconnectFailedEvent(redisAt, redisAt,
                        new io.lettuce.core.RedisConnectionException(why), attempt));
            }
        }
        assertThat(lines.at(Level.WARN)).singleElement().asString().contains("reconnecting failed: Connection refused");
    }

    private static long clientIdNamed(io.lettuce.core.api.StatefulRedisConnection<String, String> watching, String name) {
        return java.util.Arrays.stream(watching.sync().clientList().split("\n")).filter(line -> line.contains(" name=" + name + " "))
                .map(line -> Long.parseLong(line.replaceAll("^id=(\\d+) .*", "$1"))).findFirst().orElseThrow();
    }

    /** The IDs of the connections Redis lists, but the asking one's own. */
    private static String gatewayConnections() {
        return direct(watching -> {
            String own = Long.toString(watching.clientId());
            return java.util.Arrays.stream(watching.clientList().split("\n"))
                    .map(line -> line.replaceAll("^id=(\\d+) .*", "$1")).filter(id -> !id.equals(own))
                    .sorted().reduce("", (a, b) -> a + b + ";");
        });
    }

    @Test
    void aRedisDownAtStartIsUsedOnceItIsUpAndThatIsSaidInOneInfoLine() throws InterruptedException {
        String key = "up-later:" + UUID.randomUUID();
        Bucket bucket = new Bucket(1_000, Duration.ofMinutes(1));
        upLater.stop();
        try (RedisState client = new RedisState(upLater.url(), TIMEOUT, "mpg-test:", new SimpleMeterRegistry())) {
            assertThat(client.awaitConnection(Duration.ofSeconds(2))).isFalse();
            assertThatThrownBy(() -> client.take(key, bucket)).isInstanceOf(StateUnavailableException.class);

            upLater.start();

            assertThat(eventually(() -> client.take(key, bucket))).isEqualTo(Take.ALLOWED);
        } finally {
            upLater.start();
        }
        assertThat(lines.at(Level.INFO)).singleElement().asString().startsWith("Redis connection made, after ");
        assertThat(lines.at(Level.WARN)).as("the gateway's startup says it does not answer yet").isEmpty();
    }

    @Test
    void aConnectionThatCouldNotBeMadeIsTriedAgainByACallAtMostOnceASecond() throws Exception {
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket notRedis = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!notRedis.isClosed()) {
                    try (java.net.Socket hungUp = notRedis.accept()) {
                        attempts.incrementAndGet(); // and hangs up: the handshake fails
                    } catch (java.io.IOException closed) {
                        // the test is over
                    }
                }
            });
            try (RedisState refused = new RedisState("redis://127.0.0.1:" + notRedis.getLocalPort(), TIMEOUT, "mpg:", new SimpleMeterRegistry())) {
                refused.awaitConnection(Duration.ofSeconds(2));
                long until = System.nanoTime() + Duration.ofMillis(700).toNanos();
                int calls = 0;
                while (System.nanoTime() < until) {
                    assertThatThrownBy(() -> refused.take("k", new Bucket(1, Duration.ofSeconds(1))))
                            .isInstanceOf(StateUnavailableException.class);
                    calls++;
                }
                assertThat(calls).isGreaterThan(10);
                assertThat(attempts.get()).as("the first attempt, and at most one more within the second").isLessThanOrEqualTo(2);
            }
        }
    }

    @Test
    void aFailureSaysWhatRedisSaidUnderLettucesWords() {
        RuntimeException wrongPassword = new io.lettuce.core.RedisConnectionException("Unable to connect to 127.0.0.1:6379",
                new io.lettuce.core.RedisCommandExecutionException("WRONGPASS invalid username-password pair or user is disabled."));

        assertThat(RedisState.describe(wrongPassword))
                .isEqualTo("Unable to connect to 127.0.0.1:6379: WRONGPASS invalid username-password pair or user is disabled.");
    }

    /** The ACL that docs/modules/rate-limits.md gives an administrator is enough for every call, and the key prefix limits it. */
    @Test
    void theDocumentedAclUserMayMakeEveryCall() throws java.io.IOException {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("docs/modules/rate-limits.md"));
        java.util.regex.Matcher acl = java.util.regex.Pattern.compile("`ACL SETUSER (gateway [^`]*)`").matcher(doc);
        assertThat(acl.find()).as("the ACL in the docs").isTrue();
        List<String> words = List.of(acl.group(1).trim().split("\\s+"));
        direct(redis -> redis.dispatch(io.lettuce.core.protocol.CommandType.ACL, new io.lettuce.core.output.StatusOutput<>(
                io.lettuce.core.codec.StringCodec.UTF8), new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8)
                .add("SETUSER").addValues(words)));
        String url = redis.url().replace("redis://", "redis://gateway:secret@");
        Bucket bucket = new Bucket(1, Duration.ofMinutes(1));
        try (RedisState asUser = connected(new RedisState(url, TIMEOUT, "mpg:", new SimpleMeterRegistry()));
             RedisState elsewhere = connected(new RedisState(url, TIMEOUT, "other:", new SimpleMeterRegistry()))) {
            String key = "acl:" + UUID.randomUUID();
            assertThat(asUser.peek(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(asUser.take(key, bucket)).isEqualTo(Take.ALLOWED);
            assertThat(asUser.take(key, bucket)).isInstanceOf(Take.Refused.class);
            assertThat(asUser.peekDistinct(key + ":window", "m", Duration.ofMinutes(1))).isEqualTo(1);
            assertThat(asUser.countDistinct(key + ":window", "m", Duration.ofMinutes(1))).isEqualTo(1);
            assertThatThrownBy(() -> elsewhere.take(key, bucket)).isInstanceOf(StateUnavailableException.class).hasMessageContaining("NOPERM");
        } finally {
            direct(redis -> redis.aclDeluser("gateway"));
        }
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

    /**
     * A call that finds the connection still being made (the first, one given up, one that could not
     * be made) waits for it and for its script's answer within one timeout in all, as the docs say,
     * not one timeout for each.
     */
    @Test
    void aCallWaitingForTheConnectionBeingMadeTakesOneTimeoutInAllNotOneMoreForItsScript() throws Exception {
        Duration timeout = Duration.ofMillis(500);
        Duration handshake = timeout.multipliedBy(3).dividedBy(4); // the connection made late within the call's wait
        List<Duration> took = new ArrayList<>();
        try (SlowThenSilent proxy = new SlowThenSilent(redis.port(), handshake)) {
            for (int call = 0; call < 4; call++) {
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                try (RedisState client = new RedisState("redis://127.0.0.1:" + proxy.port(), timeout, "mpg-test:", registry)) {
                    long start = System.nanoTime();
                    assertThatThrownBy(() -> client.take("slow", new Bucket(1, Duration.ofSeconds(1))))
                            .isInstanceOf(StateUnavailableException.class);
                    took.add(Duration.ofNanos(System.nanoTime() - start));
                    assertThat(registry.get("policy.state.failures").tag("operation", "take").counter().count()).isEqualTo(1);
                }
            }
            assertThat(proxy.scriptsHeld()).as("calls whose script was sent on the connection made late").isPositive();
        }
        // without one deadline: the handshake's wait, then a whole timeout for the script (1.75 times the timeout at least)
        assertThat(took).allSatisfy(call -> assertThat(call).isLessThan(timeout.multipliedBy(3).dividedBy(2)));
    }

    /**
     * A proxy to a Redis that passes the answers to a connection's handshake on {@code late}, and from
     * the connection's first {@code EVALSHA} on passes nothing on: a Redis that makes a connection
     * slowly, then hangs.
     */
    private static final class SlowThenSilent implements AutoCloseable {
        private final java.net.ServerSocket listening = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        private final List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.util.concurrent.atomic.AtomicInteger scriptsHeld = new java.util.concurrent.atomic.AtomicInteger();

        SlowThenSilent(int redisPort, Duration late) throws java.io.IOException {
            Thread.ofVirtual().start(() -> {
                while (!listening.isClosed()) {
                    try {
                        java.net.Socket client = listening.accept();
                        sockets.add(client);
                        java.net.Socket server = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), redisPort);
                        sockets.add(server);
                        Thread.ofVirtual().start(() -> pass(client, server, Duration.ZERO, true));
                        Thread.ofVirtual().start(() -> pass(server, client, late, false));
                    } catch (java.io.IOException closed) {
                        // the test is over
                    }
                }
            });
        }

        int port() {
            return listening.getLocalPort();
        }

        int scriptsHeld() {
            return scriptsHeld.get();
        }

        /** Copies {@code from} to {@code to}, the first bytes {@code late}; from a script on, nothing ({@code holdScripts}). */
        private void pass(java.net.Socket from, java.net.Socket to, Duration late, boolean holdScripts) {
            byte[] buffer = new byte[8192];
            boolean first = true;
            boolean holding = false;
            try {
                for (int read; (read = from.getInputStream().read(buffer)) >= 0; ) {
                    if (holdScripts && !holding && new String(buffer, 0, read, java.nio.charset.StandardCharsets.ISO_8859_1).contains("EVALSHA")) {
                        holding = true;
                        scriptsHeld.incrementAndGet();
                    }
                    if (first) {
                        Thread.sleep(late);
                        first = false;
                    }
                    if (!holding) {
                        to.getOutputStream().write(buffer, 0, read);
                    }
                }
            } catch (java.io.IOException | InterruptedException closed) {
                // a side closed: the test is over with this connection
            }
        }

        @Override
        public void close() throws java.io.IOException {
            listening.close();
            for (java.net.Socket socket : sockets) {
                socket.close();
            }
        }
    }

    /** An explanation peeks: its failures are not failed takes, which an alert on decisions counts. */
    @Test
    void aFailedPeekIsCountedAsAPeekNotAsATake() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RedisState nowhere = new RedisState("redis://127.0.0.1:" + Ports.unusedPort(), TIMEOUT, "mpg:", registry)) {
            assertThatThrownBy(() -> nowhere.peek("k", new Bucket(1, Duration.ofSeconds(1))))
                    .isInstanceOf(StateUnavailableException.class);
            assertThatThrownBy(() -> nowhere.peekDistinct("k", "m", Duration.ofSeconds(1)))
                    .isInstanceOf(StateUnavailableException.class);

            assertThat(registry.get("policy.state.failures").tag("operation", "peek").counter().count()).isEqualTo(1);
            assertThat(registry.get("policy.state.failures").tag("operation", "peek_distinct").counter().count()).isEqualTo(1);
            assertThat(registry.get("policy.state.failures").tag("operation", "take").counter().count()).isZero();
            assertThat(registry.get("policy.state.failures").tag("operation", "count_distinct").counter().count()).isZero();
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
