package dev.matrixpolicy.gateway.state;

import dev.matrixpolicy.gateway.outage.Outage;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisReadOnlyException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.Event;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ReconnectFailedEvent;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;

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
 *   <li><b>Timeout:</b> a call waits at most {@code timeout} in all: for a connection still being
 *       made, then for its script's answer (and a forgotten script's {@code EVAL}) with what is left;
 *       while the connection is down, commands fail at once instead of queueing (a connection just
 *       lost is waited for until an attempt to make it again fails: {@link #send}). A failure is a
 *       {@link StateUnavailableException}, counted by {@code policy.state.failures}, by the
 *       operation that failed ({@code take}, {@code count_distinct}, or an explanation's {@code peek},
 *       {@code peek_distinct}).</li>
 *   <li><b>Healing:</b> Lettuce reconnects by itself (every second at most, while Redis is down); a
 *       restarted Redis has forgotten the scripts, so a {@code NOSCRIPT} answer sends the script itself
 *       with {@code EVAL}, which caches it again. The first connection is started with the instance, in
 *       the background, so a gateway starts while Redis is down; a connection that could not be made
 *       is tried again by a call at most once a second, not by every call, and one INFO says when it
 *       is made. While Lettuce cannot make a
 *       lost connection again, one WARN says why in Redis's own words ({@code NOAUTH ...} when Redis
 *       now wants a password), calls' failures say it too, and one INFO says when it is made. Lettuce's
 *       own WARN, with a stack trace, on every failed attempt is kept out of the log by the embedded
 *       {@code application.yml}.</li>
 *   <li><b>A connection that stopped answering</b> (a hung Redis, a host gone, a connection a NAT
 *       dropped, none of which closes the socket for many minutes): a command that timed out still
 *       waits on the connection for its answer, so while nothing answers, they pile up. Once commands
 *       time out and nothing has answered for {@link #silentLimit} (2 s, or three times the timeout
 *       if longer) since the first of them was sent, the connection is given up, which fails and frees
 *       them, and a new one is made; and at most {@link #MAX_PENDING} commands wait on a connection at
 *       any time. A quiet spell with nothing asked is no silence: one slow answer after it keeps the
 *       connection (an idle connection a NAT dropped is found by Lettuce's TCP keepalives).</li>
 *   <li><b>A failover behind one address</b> (a managed Redis's primary endpoint, a DNS name that
 *       moves to the new primary): the connection made before stays on the old primary, now a replica,
 *       which answers every write {@code READONLY}, forever. Such an answer gives the connection up for
 *       a new one to wherever the address leads now, at most once a second, with one WARN an outage
 *       and one INFO when writes are accepted again.</li>
 *   <li><b>Renewed certificates</b> ({@link #renewTls}) apply from the next TLS handshake, a
 *       reconnection's included; an established connection is not cut, so no call in flight is lost
 *       or repeated: Redis checks a client certificate at the handshake only.</li>
 *   <li><b>A timed-out command may still run:</b> Redis runs what it received when it can, so a call
 *       answered as failed may have taken its token.</li>
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
     * of an empty bucket: {0, milliseconds until a token, malformed}. {@code malformed} (1 or 0) says
     * the key held no bucket this gateway writes: another type (read as absent, {@code foreign}, which
     * would otherwise fail every call with {@code WRONGTYPE} until someone deleted it), a hash lacking
     * a field (absent too: a full bucket), or a count or time that is no number (an empty bucket).
     */
    private static final String REFILLED = NOW + """
            local capacity = tonumber(ARGV[1])
            local period = tonumber(ARGV[2])
            local kind = redis.call('TYPE', KEYS[1])['ok']
            local foreign = kind ~= 'none' and kind ~= 'hash'
            local held = foreign and {false, false} or redis.call('HMGET', KEYS[1], 'tokens', 'updated')
            local malformed = foreign or (kind == 'hash' and not (held[1] and held[2]))
            local tokens = capacity
            local function finite(value) -- tonumber reads 'nan' and 'inf' too: neither is a count or a time
              if value and value == value and value > -math.huge and value < math.huge then
                return value
              end
              return nil
            end
            local stored, updated = finite(tonumber(held[1])), finite(tonumber(held[2]))
            local rewrite = false -- what something else wrote, made a bucket again by TAKE, which refills
            if held[1] and held[2] then -- tonumber is nil for text that is no number: an empty bucket, below
              if updated and updated > now then -- ahead of this clock: it would never refill
                updated = now
                rewrite = true
              end
              tokens = (stored and updated) and math.min(capacity, stored + math.max(0, now - updated) * capacity / period) or 0
              malformed = malformed or not (stored and updated)
            end
            if not (tokens >= 0) then -- a value written by something else (or NaN): an empty bucket, not a debt of ages
              tokens = 0
              malformed = true
            end
            rewrite = rewrite or malformed
            local flag = malformed and 1 or 0
            local function refused()
              return {0, math.max(1, math.ceil((1 - tokens) * period / capacity)), flag}
            end
            local function write(left)
              if foreign then
                redis.call('DEL', KEYS[1])
              end
              redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', left), 'updated', now)
              redis.call('PEXPIRE', KEYS[1], period)
            end
            """;

    /** Takes a token: {allowed (1 or 0), milliseconds until a token (when refused), malformed}. */
    static final Script TAKE = new Script(REFILLED + """
            if tokens >= 1 then
              write(tokens - 1)
              return {1, 0, flag}
            end
            if rewrite then
              write(tokens)
            end
            return refused()
            """);

    /** What {@link #TAKE} would answer, writing nothing. */
    static final Script PEEK = new Script(REFILLED + """
            if tokens >= 1 then
              return {1, 0, flag}
            end
            return refused()
            """);

    /**
     * Whether KEYS[1] holds something other than a window ({@code foreign}): read as an empty window,
     * which would otherwise fail every call with {@code WRONGTYPE} until someone deleted it.
     */
    private static final String WINDOW = NOW + """
            local window = tonumber(ARGV[2])
            local max = tonumber(ARGV[3])
            local kind = redis.call('TYPE', KEYS[1])['ok']
            local foreign = kind ~= 'none' and kind ~= 'zset'
            local flag = foreign and 1 or 0
            """;

    /** Adds a member to a window and counts the window's members: {count, malformed}. */
    static final Script COUNT_DISTINCT = new Script(WINDOW + """
            if foreign then
              redis.call('DEL', KEYS[1])
            end
            -- ZADD first: Redis refuses a script's write at maxmemory only until it has written once, and
            -- the removals would have let it grow a full Redis instead of failing as TAKE does
            redis.call('ZADD', KEYS[1], now, ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. now, '+inf') -- ahead of this clock: written by something else
            local count = redis.call('ZCARD', KEYS[1])
            if count > max then
              redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - max - 1)
              count = max
            end
            redis.call('PEXPIRE', KEYS[1], window)
            return {count, flag}
            """);

    /**
     * What {@link #COUNT_DISTINCT} would answer, writing nothing: the live members, this one counted
     * once; {count, malformed}.
     */
    static final Script PEEK_DISTINCT = new Script(WINDOW + """
            if foreign then
              return {1, flag}
            end
            local count = redis.call('ZCOUNT', KEYS[1], '(' .. (now - window), now)
            local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
            if not seen or tonumber(seen) <= now - window or tonumber(seen) > now then
              count = count + 1
            end
            return {math.min(count, max), flag}
            """);

    private static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);
    /** How long after one WARN of a connection that cannot be made again another reason is told. */
    private static final Duration REWARN_AFTER = Duration.ofMinutes(1);
    /** How many commands may wait on one connection for their answers, those timed out included. */
    static final int MAX_PENDING = 4096;
    private static final Duration LEAST_SILENCE = Duration.ofSeconds(2);
    /** How often a call sends again a command refused while a lost connection is made again ({@link #send}). */
    private static final Duration RECONNECTION_POLL = Duration.ofMillis(2);
    /** How Lettuce's refusal of a command while its connection is down begins. */
    private static final String NOT_CONNECTED = "Currently not connected";
    private static final Logger log = LoggerFactory.getLogger(RedisState.class);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(2);

    private final ClientResources resources;
    private final RedisClient client;
    private final String keyPrefix;
    private final Counter takeFailures;
    private final Counter peekFailures;
    private final Counter countFailures;
    private final Counter peekDistinctFailures;
    private final RedisURI uri;
    private final Duration timeout;
    private final Object connecting = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private CompletableFuture<StatefulRedisConnection<String, String>> connection;
    /** When the last connection attempt failed ({@link System#nanoTime}). */
    private volatile long failedAt;
    /** When the connection in use last answered a command, an error included ({@link System#nanoTime}). */
    private volatile long answeredAt = System.nanoTime();
    /**
     * When the first call sent since {@link #answeredAt} that timed out was sent ({@link System#nanoTime}):
     * the silence counts from there, not from the last answer, which a quiet spell with nothing asked
     * leaves long past. Older than {@link #answeredAt} while no call sent since timed out.
     */
    private final AtomicLong unansweredSince = new AtomicLong(answeredAt - 1);
    /** How long commands may go unanswered on a connection before it is given up. */
    private final Duration silentLimit;
    /** Silent connections given up since the last answer: one WARN an outage. */
    private final Outage silence = new Outage(log);
    /** Connections given up because they lead to a replica: one WARN an outage. */
    private final Outage readOnly = new Outage(log);
    /** When the last connection that led to a replica was given up ({@link System#nanoTime}). */
    private volatile long readOnlyGivenUpAt = System.nanoTime() - MAX_RECONNECT_DELAY.toNanos();
    /** Connections this instance could not make (the first, or one in place of one given up), until one is made. */
    private final Outage notConnected = new Outage(log);
    /** Why Lettuce's last attempt to make a lost connection again failed, while it fails. */
    private final Outage reconnecting = new Outage(log);
    /** When the last WARN of a connection that cannot be made again was written ({@link System#nanoTime}). */
    private volatile long reconnectWarnedAt;
    private final Disposable connectionEvents;
    /**
     * What the next TLS handshake shows and trusts ({@link #renewTls}); null without TLS settings.
     * Lettuce builds a connection's TLS context anew from its {@link SslOptions} at each handshake,
     * its reconnects' included, but keeps the options the connection was made with: so the options
     * read this, rather than being replaced.
     */
    private final AtomicReference<Tls> tls;
    /** When the last WARN of a key holding no bucket or window was written ({@link System#nanoTime}). */
    private final AtomicLong malformedWarnedAt = new AtomicLong(System.nanoTime() - REWARN_AFTER.toNanos());
    /** Such keys since that WARN. */
    private final AtomicLong malformedSince = new AtomicLong();

    /** A Redis without TLS, or with TLS that trusts the JVM's certificate authorities and shows no client certificate. */
    public RedisState(String url, Duration timeout, String keyPrefix, MeterRegistry meterRegistry) {
        this(url, timeout, keyPrefix, Optional.empty(), meterRegistry);
    }

    /**
     * @param url       {@code redis://[user:password@]host[:port][/database]} or {@code rediss://} for TLS
     * @param timeout   how long a call may take in all, the wait for a connection being made included
     * @param keyPrefix put before every key, so that several gateways (or other programs) can share one Redis
     * @param tls       whom a {@code rediss://} URL trusts and what it shows; none: the JVM's authorities
     *                  ({@code javax.net.ssl.trustStore}), and no client certificate
     * @throws IllegalArgumentException for {@code tls} with a URL that is not {@code rediss://}
     */
    public RedisState(String url, Duration timeout, String keyPrefix, Optional<Tls> tls, MeterRegistry meterRegistry) {
        this.uri = RedisURI.create(url);
        if (tls.isPresent() && !uri.isSsl()) {
            throw new IllegalArgumentException("TLS settings for a URL without TLS: " + uri.getHost());
        }
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        // The handshake after connecting may take longer than a command (a cold JVM loads Netty's
        // classes then); connecting is never on a call's path, which waits at most the timeout.
        uri.setTimeout(HANDSHAKE_TIMEOUT.compareTo(timeout) > 0 ? HANDSHAKE_TIMEOUT : timeout);
        this.silentLimit = LEAST_SILENCE.compareTo(timeout.multipliedBy(3)) > 0 ? LEAST_SILENCE : timeout.multipliedBy(3);
        this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
        this.resources = ClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
                .build();
        this.connectionEvents = resources.eventBus().get().subscribe(this::observe);
        this.client = RedisClient.create(resources, uri);
        this.tls = new AtomicReference<>(tls.orElse(null));
        ClientOptions.Builder options = ClientOptions.builder();
        tls.ifPresent(given -> options.sslOptions(given.sslOptions(this.tls::get)));
        client.setOptions(options
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(MAX_PENDING)
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
        // an explanation's peek failing is counted as a peek: an alert on failed takes hears only decisions
        this.takeFailures = failures(meterRegistry, "take");
        this.peekFailures = failures(meterRegistry, "peek");
        this.countFailures = failures(meterRegistry, "count_distinct");
        this.peekDistinctFailures = failures(meterRegistry, "peek_distinct");
        this.connection = connect();
    }

    /**
     * Starts a connection. Its failure is told by whoever asked for it (the WARN at startup of a Redis
     * that does not answer yet, the WARN of a connection given up) and by the calls that fail; that it
     * is made at last is told here, in one INFO.
     */
    private CompletableFuture<StatefulRedisConnection<String, String>> connect() {
        return client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture().whenComplete((made, failure) -> {
            if (failure != null) {
                failedAt = System.nanoTime();
                notConnected.failed().quiet("Redis connection could not be made again: {}", describe(failure));
            } else {
                notConnected.worksAgain("Redis connection made, after {} failed attempt(s) since {}");
            }
        });
    }

    /** Lettuce's news of its connection: one WARN while it cannot make a lost one again, one INFO when it can. */
    void observe(Event event) {
        if (closed.get()) {
            return;
        }
        if (event instanceof ReconnectFailedEvent failed) {
            Throwable cause = failed.getCause() instanceof CompletionException wrapped && wrapped.getCause() != null
                    ? wrapped.getCause() : failed.getCause();
            if (cause instanceof CancellationException) {
                return; // an attempt Lettuce called off itself (a newer one, or the client closing): no news of Redis
            }
            String why = describe(cause);
            Outage.Failure failure = reconnecting.failed(why);
            long now = System.nanoTime();
            if (failure.first()) {
                reconnectWarnedAt = now;
                failure.loud("Redis connection lost, and reconnecting failed: {}. Calls fail until a reconnection succeeds "
                        + "(tried every second at most)", why);
            } else if (failure.news() && now - reconnectWarnedAt >= REWARN_AFTER.toNanos()) {
                // a reason that changes, such as refused and timed out in turn while Redis restarts, is told a minute apart
                reconnectWarnedAt = now;
                failure.loud("Redis reconnection still failing, now: {}", why);
            }
        } else if (event instanceof ConnectionActivatedEvent) {
            reconnecting.worksAgain("Redis connection made again");
        }
    }

    private static Counter failures(MeterRegistry registry, String operation) {
        return Counter.builder("policy.state.failures")
                .description("Calls to the shared state in Redis that failed: Redis down, slow or refusing")
                .tags("backend", "redis", "operation", operation)
                .register(registry);
    }

    @Override
    public Take take(String key, Bucket bucket) {
        return runBucket(TAKE, key, bucket, takeFailures);
    }

    @Override
    public Take peek(String key, Bucket bucket) {
        return runBucket(PEEK, key, bucket, peekFailures);
    }

    /** {@link #TAKE} or {@link #PEEK}: {allowed (1 or 0), milliseconds until a token (when refused)}. */
    private Take runBucket(Script script, String key, Bucket bucket, Counter failures) {
        List<Long> answer = run(script, ScriptOutputType.MULTI, key, failures,
                Long.toString(bucket.capacity()), Long.toString(bucket.periodMillis()));
        warnIfMalformed(answer.get(2), "a token bucket", "read as a full bucket if it lacked a field or was another type, "
                + "as an empty one if its count or time was no number; a take writes a bucket over it");
        // an empty bucket gets a token within period / capacity: anything else in the answer is not believed
        long most = Math.max(1, (bucket.periodMillis() + bucket.capacity() - 1) / bucket.capacity());
        if (script == TAKE && answer.get(0) == 1) {
            wrote();
        }
        return answer.get(0) == 1 ? Take.ALLOWED : new Take.Refused(Duration.ofMillis(Math.clamp(answer.get(1), 1, most)));
    }

    @Override
    public long countDistinct(String key, String member, Duration window) {
        return runWindow(COUNT_DISTINCT, key, member, window, countFailures);
    }

    @Override
    public long peekDistinct(String key, String member, Duration window) {
        return runWindow(PEEK_DISTINCT, key, member, window, peekDistinctFailures);
    }

    /** {@link #COUNT_DISTINCT} or {@link #PEEK_DISTINCT}: the window's distinct members. */
    private long runWindow(Script script, String key, String member, Duration window, Counter failures) {
        List<Long> answer = run(script, ScriptOutputType.MULTI, key, failures,
                member, Long.toString(window.toMillis()), Integer.toString(MAX_MEMBERS));
        warnIfMalformed(answer.get(1), "a window of members", "read as an empty window; a count writes a window over it");
        if (script == COUNT_DISTINCT) {
            wrote();
        }
        return answer.get(0);
    }

    /**
     * One WARN a {@link #REWARN_AFTER} at most of keys that held what this gateway does not write
     * (an older version's layout, an admin's {@code redis-cli}, a write cut short), the rest DEBUG: a
     * wave of them must not flood the log. The key is not named: it holds user and room IDs, which
     * are not the state package's to escape for a log.
     */
    private void warnIfMalformed(long malformed, String what, String read) {
        if (malformed != 1) {
            return;
        }
        malformedSince.incrementAndGet();
        long now = System.nanoTime();
        long warned = malformedWarnedAt.get();
        if (now - warned >= REWARN_AFTER.toNanos() && malformedWarnedAt.compareAndSet(warned, now)) {
            log.warn("Redis held something other than {} under a key: {} (this key and {} more since the last such line)",
                    what, read, Math.max(0, malformedSince.getAndSet(0) - 1));
        } else {
            log.debug("Redis held something other than {} under a key: {}", what, read);
        }
    }

    private <T> T run(Script script, ScriptOutputType type, String key, Counter failures, String... args) {
        String[] keys = {keyPrefix + key};
        // one deadline for the whole call: the wait for a connection being made, EVALSHA, and EVAL
        long deadline = System.nanoTime() + timeout.toNanos();
        StatefulRedisConnection<String, String> used = null;
        long sent = 0;
        try {
            used = connection(deadline);
            var commands = used.async();
            sent = System.nanoTime();
            T answer;
            try {
                answer = send(() -> commands.evalsha(script.sha1(), type, keys, args), used, deadline);
            } catch (RedisNoScriptException forgotten) {
                // A restarted (or flushed) Redis forgot the script: EVAL runs it and caches it again.
                answer = send(() -> commands.eval(script.text(), type, keys, args), used, deadline);
            }
            answered();
            return answer;
        } catch (RedisException failed) {
            if (failed instanceof RedisCommandExecutionException) {
                answered(); // an error answer (OOM, WRONGTYPE) is still an answer
                if (failed instanceof RedisReadOnlyException && used != null) {
                    giveUpReadOnly(used);
                }
            } else if (failed instanceof RedisCommandTimeoutException && used != null) {
                giveUpIfSilent(used, sent);
            }
            failures.increment();
            throw new StateUnavailableException("Redis did not answer: " + describe(failed) + reconnecting.run()
                    .map(run -> " (reconnecting fails: " + run.condition() + ")").orElse(""), failed);
        }
    }

    /**
     * {@link #await}, sending the command again while Lettuce refuses it because the connection was
     * just lost and is being made again: within milliseconds when Redis is up (a {@code CLIENT KILL},
     * Redis's idle {@code timeout}, a proxy between restarted), and a call that failed at once meanwhile
     * would answer a question 503 on a healthy Redis. A refused command was never sent, so sending it
     * again counts nothing twice. Once an attempt to make the connection again has failed (Redis down),
     * or the connection was given up for another, the refusal fails the call at once, as while Redis
     * stays down.
     */
    private <T> T send(Supplier<RedisFuture<T>> command, StatefulRedisConnection<String, String> used, long deadline) {
        while (true) {
            try {
                return await(command, deadline);
            } catch (RedisException failed) {
                if (!refusedWhileReconnecting(failed, used)) {
                    throw failed;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new RedisException("connection lost, and not made again within the call's " + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(Duration.ofNanos(Math.min(left, RECONNECTION_POLL.toNanos())));
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new RedisCommandInterruptedException(interrupted);
            }
        }
    }

    /**
     * Whether Lettuce refused to send a command because {@code used} is not connected
     * ({@link ClientOptions.DisconnectedBehavior#REJECT_COMMANDS}: a plain {@link RedisException} in
     * these words, its only sign), while Lettuce makes it again and no attempt to has failed yet.
     */
    private boolean refusedWhileReconnecting(RedisException failed, StatefulRedisConnection<String, String> used) {
        return failed.getClass() == RedisException.class && failed.getMessage() != null
                && failed.getMessage().startsWith(NOT_CONNECTED) && !reconnecting.failing() && !closed.get() && current(used);
    }

    /** Whether {@code used} is the connection calls are given now (not one given up for another). */
    private boolean current(StatefulRedisConnection<String, String> used) {
        synchronized (connecting) {
            return made() == used;
        }
    }

    /** The connection calls are given, once made; null while it is being made, or could not be. Under {@link #connecting}. */
    private StatefulRedisConnection<String, String> made() {
        return connection.isDone() && !connection.isCompletedExceptionally() ? connection.join() : null;
    }

    /**
     * What Lettuce's synchronous API does with a command (whose own wait would be a whole
     * {@code timeout} again after the connection's), with what is left of the call's: the answer, or
     * Lettuce's exception for it; past the deadline a {@link RedisCommandTimeoutException}, the command
     * cancelled (Redis may still run it). With no time left it is not sent at all.
     */
    private <T> T await(Supplier<RedisFuture<T>> send, long deadline) {
        if (deadline - System.nanoTime() <= 0) {
            throw new RedisException("no time left to send the command within the call's " + timeout.toMillis() + " ms");
        }
        RedisFuture<T> answer = send.get();
        try {
            long left = deadline - System.nanoTime();
            if (left > 0 && answer.await(left, TimeUnit.NANOSECONDS)) {
                return answer.get();
            }
        } catch (ExecutionException failed) {
            throw failed.getCause() instanceof RuntimeException thrown ? thrown : new RedisException(failed.getCause());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            answer.cancel(true);
            throw new RedisCommandInterruptedException(interrupted);
        }
        answer.cancel(true);
        throw new RedisCommandTimeoutException("Command timed out within the call's " + timeout.toMillis() + " ms");
    }

    /**
     * A script wrote (a token taken, a member counted): only that tells that a connection that led to
     * a replica leads to a primary again, since a replica answers what writes nothing.
     */
    private void wrote() {
        readOnly.worksAgain("Redis accepts writes again");
    }

    private void answered() {
        answeredAt = System.nanoTime();
        silence.worksAgain("Redis answers again");
    }

    /**
     * Gives the connection up for a new one when it has answered nothing for {@link #silentLimit} since
     * the first call that got no answer was sent: closing it fails the commands still waiting on it,
     * which a connection that nothing closes would otherwise hold until the heap ran out. One slow
     * answer after a quiet spell is no silence of the spell's length: nothing was asked then.
     *
     * @param sent when the call that timed out was sent ({@link System#nanoTime})
     */
    private void giveUpIfSilent(StatefulRedisConnection<String, String> used, long sent) {
        long answered = answeredAt;
        if (sent - answered < 0) {
            return; // the connection answered after this call was sent: no silence of this call's to count
        }
        long since = unansweredSince.accumulateAndGet(sent,
                (earlier, next) -> earlier - answered >= 0 && earlier - next < 0 ? earlier : next);
        if (System.nanoTime() - since < silentLimit.toNanos()) {
            return;
        }
        if (!replace(used)) {
            return;
        }
        Outage.Failure failure = silence.failed();
        failure.loud("Redis answered no call within its timeout for {} ms on its connection (silent, or late): closing it and"
                + " opening another (calls fail meanwhile)", silentLimit.toMillis());
        failure.quiet("Redis still answers no call within its timeout: another new connection");
    }

    /**
     * Gives up a connection that leads to a replica for a new one, at most once a second: the address
     * may lead to the new primary now, and while it still leads to the replica a call's answer is the
     * same {@code READONLY} at once.
     */
    private void giveUpReadOnly(StatefulRedisConnection<String, String> used) {
        long now = System.nanoTime();
        if (now - readOnlyGivenUpAt < MAX_RECONNECT_DELAY.toNanos() || !replace(used)) {
            return;
        }
        readOnlyGivenUpAt = now;
        Outage.Failure failure = readOnly.failed();
        failure.loud("Redis answered READONLY: the address leads to a replica (after a failover?); making a new connection "
                + "to where it leads now, every second at most, until writes are accepted (calls fail meanwhile)");
        failure.quiet("Redis still answers READONLY: another new connection");
    }

    /** Starts a new connection in place of {@code used} and closes it; false when another call did already. */
    private boolean replace(StatefulRedisConnection<String, String> used) {
        synchronized (connecting) {
            if (made() != used || closed.get()) {
                return false; // given up already, by another call
            }
            answeredAt = System.nanoTime(); // the new connection's silence counts from now
            connection = connect();
        }
        used.closeAsync();
        return true;
    }

    /**
     * Shows and trusts {@code next} from the next TLS handshake on: a renewed client certificate, or
     * authority. A connection Lettuce makes again after losing it uses it, and so does a new one; an
     * established connection keeps its TLS session, which Redis checked at its handshake only. The
     * protocols and ciphers stay those given at construction.
     *
     * @throws IllegalStateException for an instance made without TLS settings
     */
    public void renewTls(Tls next) {
        Objects.requireNonNull(next, "next");
        if (tls.get() == null) { // made without TLS settings: it stays so
            throw new IllegalStateException("TLS settings renewed for a Redis state made without them");
        }
        tls.set(next);
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
     * How many of Lettuce's attempts in a row to make a lost connection again have failed; 0 while none
     * fails. Tests wait on it.
     */
    long reconnectsFailed() {
        return reconnecting.run().map(Outage.Run::failures).orElse(0L);
    }

    /** Whether the connection calls are given is up: made, and not lost since. Tests wait on it. */
    boolean connectionUp() {
        synchronized (connecting) {
            StatefulRedisConnection<String, String> made = made();
            return made != null && made.isOpen();
        }
    }

    /**
     * Why the last attempt to connect failed, in Lettuce's words ({@code ... unable to find valid
     * certification path ...} for a certificate from an authority not trusted); empty while connected,
     * or while an attempt is still under way.
     */
    public Optional<String> connectionFailure() {
        CompletableFuture<StatefulRedisConnection<String, String>> current;
        synchronized (connecting) {
            current = connection;
        }
        try {
            current.getNow(null);
            return Optional.empty();
        } catch (CompletionException | CancellationException failed) {
            return Optional.of(describe(failed.getCause() == null ? failed : failed.getCause()));
        }
    }

    /**
     * The connection, once made: the first one is started with the instance, and a failed one again
     * by the next call, which waits for it until its deadline, leaving the command what remains of
     * it. Once made, Lettuce keeps it up.
     */
    private StatefulRedisConnection<String, String> connection(long deadline) {
        CompletableFuture<StatefulRedisConnection<String, String>> current;
        synchronized (connecting) {
            // a failed attempt is made again by a call, at most once a second, not by every call
            if (connection.isCompletedExceptionally() && System.nanoTime() - failedAt >= MAX_RECONNECT_DELAY.toNanos()) {
                connection = connect();
            }
            current = connection;
        }
        try {
            return current.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException failed) {
            throw failed.getCause() instanceof RedisException redis ? redis : new RedisException(failed.getCause());
        } catch (TimeoutException notYet) {
            throw new RedisException("not connected yet after " + timeout.toMillis() + " ms");
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new RedisException("interrupted while connecting");
        }
    }

    /**
     * Lettuce's own words (a URI in them shows no password), or the failure's type when it has none,
     * and the innermost cause's when it says more ({@code WRONGPASS ...} under "Unable to connect").
     */
    static String describe(Throwable failed) {
        String said = failed.getMessage() == null ? failed.getClass().getSimpleName() : failed.getMessage();
        Throwable root = failed;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String rootSaid = root.getMessage();
        return root == failed || rootSaid == null || said.contains(rootSaid) ? said : said + ": " + rootSaid;
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
        connectionEvents.dispose();
        resources.shutdown(0, SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).awaitUninterruptibly();
    }

    /**
     * Whom a {@code rediss://} connection trusts and what it shows the server: what a Spring Boot SSL
     * bundle holds. The URL's {@code verifyPeer} still decides how the server's certificate is checked.
     *
     * @param keyManagers   the client certificate and key, for a Redis that asks for one (an empty key store: none)
     * @param trustManagers the certificate authorities the server's certificate must come from
     * @param protocols     the TLS versions to offer; empty: the JVM's
     * @param ciphers       the cipher suites to offer; empty: the JVM's
     */
    public record Tls(KeyManagerFactory keyManagers, TrustManagerFactory trustManagers, List<String> protocols,
                      List<String> ciphers) {
        public Tls {
            Objects.requireNonNull(keyManagers, "keyManagers");
            Objects.requireNonNull(trustManagers, "trustManagers");
            protocols = List.copyOf(protocols);
            ciphers = List.copyOf(ciphers);
        }

        /** This one's protocols and ciphers, with the key and trust managers {@code current} gives at each handshake. */
        SslOptions sslOptions(Supplier<Tls> current) {
            SslOptions.Builder builder = SslOptions.builder().jdkSslProvider().sslContext(context -> {
                Tls now = current.get();
                context.keyManager(now.keyManagers()).trustManager(now.trustManagers());
            });
            if (!protocols.isEmpty()) {
                builder.protocols(protocols.toArray(String[]::new));
            }
            if (!ciphers.isEmpty()) {
                builder.cipherSuites(ciphers.toArray(String[]::new));
            }
            return builder.build();
        }
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
