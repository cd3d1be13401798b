package dev.matrixpolicy.gateway.state;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The state in Redis (or Valkey), shared by every replica that points at it: each call is one Lua
 * script, run atomically by the server, so that N replicas taking tokens from one bucket never take
 * more than it holds.
 *
 * <ul>
 *   <li><b>One clock:</b> the scripts read the server's {@code TIME}, not the replica's clock, so that
 *       replicas whose clocks disagree still refill a bucket at its rate (Redis 5 and later replicate a
 *       script's effects, not the script, which is what lets it read the time).</li>
 *   <li><b>Keys:</b> {@code <key-prefix><caller's key>}, each with a TTL (a bucket's period, a window's
 *       length), so idle keys vanish by themselves.</li>
 *   <li><b>Timeout:</b> every command waits at most {@code timeout}, and connecting as long; while the
 *       connection is down, commands fail at once instead of queueing. A failure is a
 *       {@link StateUnavailableException}, counted by {@code policy.state.failures}.</li>
 *   <li><b>Healing:</b> Lettuce reconnects by itself (every second at most, while Redis is down); a
 *       restarted Redis has forgotten the scripts, so a {@code NOSCRIPT} answer sends the script itself
 *       with {@code EVAL}, which caches it again. The first connection is started with the instance, in
 *       the background, so a gateway starts while Redis is down.</li>
 * </ul>
 */
public final class RedisState implements SharedState {
    /** The server's time in milliseconds, as {@code now}: every script reads the one clock. */
    private static final String NOW = """
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            """;

    /**
     * The bucket under KEYS[1] refilled to now, as {@code tokens}; {@code refused()} is the answer
     * of an empty bucket: {0, milliseconds until a token}.
     */
    private static final String REFILLED = NOW + """
            local capacity = tonumber(ARGV[1])
            local period = tonumber(ARGV[2])
            local held = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
            local tokens = capacity
            local stored, updated = tonumber(held[1]), tonumber(held[2])
            if held[1] and held[2] then -- tonumber is nil for text that is no number: an empty bucket, below
              tokens = (stored and updated) and math.min(capacity, stored + math.max(0, now - updated) * capacity / period) or 0
            end
            if not (tokens >= 0) then -- a value written by something else (or NaN): an empty bucket, not a debt of ages
              tokens = 0
            end
            local function refused()
              return {0, math.max(1, math.ceil((1 - tokens) * period / capacity))}
            end
            """;

    /** Takes a token: {allowed (1 or 0), milliseconds until a token (when refused)}. */
    static final Script TAKE = new Script(REFILLED + """
            if tokens >= 1 then
              redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens - 1), 'updated', now)
              redis.call('PEXPIRE', KEYS[1], period)
              return {1, 0}
            end
            return refused()
            """);

    /** What {@link #TAKE} would answer, writing nothing. */
    static final Script PEEK = new Script(REFILLED + """
            if tokens >= 1 then
              return {1, 0}
            end
            return refused()
            """);

    /** Adds a member to a window and counts the window's members. */
    static final Script COUNT_DISTINCT = new Script(NOW + """
            local window = tonumber(ARGV[2])
            local max = tonumber(ARGV[3])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
            redis.call('ZADD', KEYS[1], now, ARGV[1])
            local count = redis.call('ZCARD', KEYS[1])
            if count > max then
              redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - max - 1)
              count = max
            end
            redis.call('PEXPIRE', KEYS[1], window)
            return count
            """);

    /** What {@link #COUNT_DISTINCT} would answer, writing nothing: the live members, this one counted once. */
    static final Script PEEK_DISTINCT = new Script(NOW + """
            local window = tonumber(ARGV[2])
            local max = tonumber(ARGV[3])
            local count = redis.call('ZCOUNT', KEYS[1], '(' .. (now - window), '+inf')
            local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not seen or tonumber(seen) <= now - window then
              count = count + 1
            end
            return math.min(count, max)
            """);

    private static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(2);

    private final ClientResources resources;
    private final RedisClient client;
    private final String keyPrefix;
    private final Counter takeFailures;
    private final Counter countFailures;
    private final RedisURI uri;
    private final Duration timeout;
    private final Object connecting = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private CompletableFuture<StatefulRedisConnection<String, String>> connection;

    /**
     * @param url       {@code redis://[user:password@]host[:port][/database]} or {@code rediss://} for TLS
     * @param timeout   how long each command, and connecting, may take
     * @param keyPrefix put before every key, so that several gateways (or other programs) can share one Redis
     */
    public RedisState(String url, Duration timeout, String keyPrefix, MeterRegistry meterRegistry) {
        this.uri = RedisURI.create(url);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        // The handshake after connecting may take longer than a command (a cold JVM loads Netty's
        // classes then); connecting is never on a call's path, which waits at most the timeout.
        uri.setTimeout(HANDSHAKE_TIMEOUT.compareTo(timeout) > 0 ? HANDSHAKE_TIMEOUT : timeout);
        this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
        this.resources = ClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
        this.takeFailures = failures(meterRegistry, "take");
        this.countFailures = failures(meterRegistry, "count_distinct");
        this.connection = connect();
    }

    private CompletableFuture<StatefulRedisConnection<String, String>> connect() {
        return client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
    }

    private static Counter failures(MeterRegistry registry, String operation) {
        return Counter.builder("policy.state.failures")
                .description("Calls to the shared state in Redis that failed: Redis down, slow or refusing")
                .tags("backend", "redis", "operation", operation)
                .register(registry);
    }

    @Override
    public Take take(String key, Bucket bucket) {
        return runBucket(TAKE, key, bucket);
    }

    @Override
    public Take peek(String key, Bucket bucket) {
        return runBucket(PEEK, key, bucket);
    }

    /** {@link #TAKE} or {@link #PEEK}: {allowed (1 or 0), milliseconds until a token (when refused)}. */
    private Take runBucket(Script script, String key, Bucket bucket) {
        List<Long> answer = run(script, ScriptOutputType.MULTI, key, takeFailures,
                Long.toString(bucket.capacity()), Long.toString(bucket.periodMillis()));
        // an empty bucket gets a token within period / capacity: anything else in the answer is not believed
        long most = Math.max(1, (bucket.periodMillis() + bucket.capacity() - 1) / bucket.capacity());
        return answer.get(0) == 1 ? Take.ALLOWED : new Take.Refused(Duration.ofMillis(Math.clamp(answer.get(1), 1, most)));
    }

    @Override
    public long countDistinct(String key, String member, Duration window) {
        return runWindow(COUNT_DISTINCT, key, member, window);
    }

    @Override
    public long peekDistinct(String key, String member, Duration window) {
        return runWindow(PEEK_DISTINCT, key, member, window);
    }

    /** {@link #COUNT_DISTINCT} or {@link #PEEK_DISTINCT}: the window's distinct members. */
    private long runWindow(Script script, String key, String member, Duration window) {
        Long count = run(script, ScriptOutputType.INTEGER, key, countFailures,
                member, Long.toString(window.toMillis()), Integer.toString(MAX_MEMBERS));
        return count;
    }

    private <T> T run(Script script, ScriptOutputType type, String key, Counter failures, String... args) {
        String[] keys = {keyPrefix + key};
        try {
            var commands = connection().sync();
            try {
                return commands.evalsha(script.sha1(), type, keys, args);
            } catch (RedisNoScriptException forgotten) {
                // A restarted (or flushed) Redis forgot the script: EVAL runs it and caches it again.
                return commands.eval(script.text(), type, keys, args);
            }
        } catch (RedisException failed) {
            failures.increment();
            throw new StateUnavailableException("Redis did not answer: " + describe(failed), failed);
        }
    }

    /**
     * Waits up to {@code wait} for the first connection, so that the first calls after startup do not
     * fail while it is being made; whether it was made. A Redis that is down does not stop anything:
     * calls fail until it is up.
     */
    public boolean awaitConnection(Duration wait) {
        CompletableFuture<StatefulRedisConnection<String, String>> current;
        synchronized (connecting) {
            current = connection;
        }
        try {
            current.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException notConnected) {
            return false;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The connection, once made: the first one is started with the instance, and a failed one again
     * by the next call, which waits for it at most the timeout. Once made, Lettuce keeps it up.
     */
    private StatefulRedisConnection<String, String> connection() {
        CompletableFuture<StatefulRedisConnection<String, String>> current;
        synchronized (connecting) {
            if (connection.isCompletedExceptionally()) {
                connection = connect();
            }
            current = connection;
        }
        try {
            return current.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException failed) {
            throw failed.getCause() instanceof RedisException redis ? redis : new RedisException(failed.getCause());
        } catch (TimeoutException notYet) {
            throw new RedisException("not connected yet after " + timeout.toMillis() + " ms");
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new RedisException("interrupted while connecting");
        }
    }

    /** Lettuce's own words (a URI in them shows no password), or the failure's type when it has none. */
    private static String describe(RedisException failed) {
        return failed.getMessage() == null ? failed.getClass().getSimpleName() : failed.getMessage();
    }

    @Override
    public boolean remote() {
        return true;
    }

    /**
     * Closes the connection and waits for Lettuce's threads to end (at most {@link #SHUTDOWN_TIMEOUT}),
     * so that none outlives the caller's shutdown step. Closing again does nothing.
     */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        synchronized (connecting) {
            connection.thenAccept(StatefulRedisConnection::close);
        }
        client.shutdown(Duration.ZERO, SHUTDOWN_TIMEOUT);
        resources.shutdown(0, SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly();
    }

    /** A Lua script, and the SHA-1 digest {@code EVALSHA} names it by. */
    record Script(String text, String sha1) {
        Script(String text) {
            this(text, sha1Of(text));
        }

        private static String sha1Of(String text) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
    }
}
