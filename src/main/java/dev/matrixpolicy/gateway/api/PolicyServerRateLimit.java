package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.replies.Durations;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.Take;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy server's own rate limit: a token bucket per asking homeserver, the {@code origin} its
 * request's {@code X-Matrix} signature proved, so that no server spends another's allowance by naming
 * it. Taken after that signature is verified and before the event's own signatures are checked and
 * the chain judges it: a server asking about made-up events, each validly signed by itself, would
 * otherwise have each judged (and counted by modules with state, {@code rate_limits}) and remembered,
 * pushing the answers given to honest servers out of the answer cache.
 *
 * <p>The buckets are those of the {@code rate_limits} module ({@link MemoryState}), in this pod's
 * memory, apart from the modules' state: an answer is remembered per pod too. A bucket is forgotten
 * one period after its last token was taken, when it is full again, so idle servers cost nothing; and
 * the buckets together hold {@link #MAX_BYTES} at most, whatever number of server names ask. The
 * bucket's shape is read at each request, so a reload applies it.
 *
 * <p>Each server refused is counted in {@value #METRIC} and logged at INFO once per period (the name
 * belongs in a log line, never in a tag): the count says whether one server floods or many are refused.
 */
final class PolicyServerRateLimit {
    static final String METRIC = "policy.server.rate.limited.origins";
    /**
     * What the buckets may take together: some 75,000 servers of 20-character names, 35,000 of the
     * longest (255), before Caffeine forgets those least likely to ask again.
     */
    static final long MAX_BYTES = 16L << 20;
    private static final Logger log = LoggerFactory.getLogger(PolicyServerRateLimit.class);
    /** The key of the bucket that tells a server's first refusal in a period from the rest. */
    private static final String NOTICED = "noticed ";

    private final Supplier<Bucket> bucket;
    private final MemoryState buckets;
    private final Counter origins;

    /**
     * @param bucket each server's bucket, read at each request
     * @param ticker a monotonic time in nanoseconds ({@link System#nanoTime()})
     */
    PolicyServerRateLimit(Supplier<Bucket> bucket, LongSupplier ticker, MeterRegistry registry) {
        this.bucket = bucket;
        this.buckets = new MemoryState(ticker, MAX_BYTES);
        this.origins = Counter.builder(METRIC)
                .description("Homeservers the policy server's rate limit refused, each counted once per period")
                .register(registry);
    }

    /**
     * Takes one of {@code origin}'s tokens.
     *
     * @throws MatrixApiException 429 {@code M_LIMIT_EXCEEDED}, with how long until a token is back, when its bucket is empty
     */
    void take(String origin) {
        Bucket shape = bucket.get();
        if (buckets.take(origin, shape) instanceof Take.Refused refused) {
            if (buckets.take(NOTICED + origin, new Bucket(1, shape.period())) == Take.ALLOWED) {
                origins.increment();
                log.info("Homeserver {} asks the policy server about more new events than its rate limit allows ({} at once, "
                        + "then {} per {}): they are answered 429 M_LIMIT_EXCEEDED", origin, shape.capacity(), shape.capacity(),
                        Durations.format(shape.period()));
            }
            throw MatrixApiException.limitExceeded("Too many events asked about by " + origin + "; try again later",
                    refused.retryAfter());
        }
    }
}
