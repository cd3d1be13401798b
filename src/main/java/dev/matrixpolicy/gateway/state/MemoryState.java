package dev.matrixpolicy.gateway.state;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The state of one process, the default: nothing to install, and right for a single replica (with
 * several, each enforces its own limits). Bounded: at most {@code maxKeys} keys (past that, Caffeine
 * evicts the keys it judges least likely to be used again, by how often and how recently each was
 * used: not strictly the least recently used), and each key forgotten once its state no longer
 * matters (a bucket after its period, a window after its length).
 *
 * <p>Time is a monotonic ticker ({@link System#nanoTime()}), never the wall clock: a clock stepped
 * back (NTP, a VM resumed) would otherwise stop refills until it caught up again. The one ticker
 * times the refills, the windows and the cache's expiry.
 */
public final class MemoryState implements SharedState {
    /** The default bound: enough for every active sender and room of a large homeserver. */
    public static final long DEFAULT_MAX_KEYS = 1_000_000;

    private final LongSupplier ticker;
    private final Cache<String, Entry> entries;

    /** A state on {@link System#nanoTime()}, with {@link #DEFAULT_MAX_KEYS}. */
    public MemoryState() {
        this(System::nanoTime, DEFAULT_MAX_KEYS);
    }

    /**
     * @param ticker  a monotonic time in nanoseconds, as {@link System#nanoTime()}: only differences count
     * @param maxKeys the most keys kept
     */
    public MemoryState(LongSupplier ticker, long maxKeys) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.entries = Caffeine.newBuilder()
                .maximumSize(maxKeys)
                .ticker(ticker::getAsLong)
                .expireAfter(Expiry.<String, Entry>writing((key, entry) -> entry.lifetime()))
                // Every take writes: with the default executor each write hands the cache's upkeep to
                // the common pool, waking one of its threads (docs/performance.md, "Cache upkeep").
                .executor(Runnable::run)
                .build();
    }

    /** What a key holds, and how long it matters after its last write. */
    private sealed interface Entry permits TokenBucket, Window {
        Duration lifetime();
    }

    private record TokenBucket(double tokens, long updated, Duration lifetime) implements Entry {
    }

    /** Members by the time they were last seen, oldest first. */
    private record Window(LinkedHashMap<String, Long> seen, Duration lifetime) implements Entry {
    }

    /** The ticker in whole milliseconds, the unit of the arithmetic; floored, so it never goes back. */
    private long now() {
        return Math.floorDiv(ticker.getAsLong(), 1_000_000L);
    }

    @Override
    public Take take(String key, Bucket bucket) {
        long now = now();
        Take[] answer = new Take[1];
        entries.asMap().compute(key, (ignored, entry) -> {
            double tokens = entry instanceof TokenBucket held ? bucket.refill(held.tokens(), now - held.updated()) : bucket.capacity();
            if (tokens >= 1) {
                answer[0] = Take.ALLOWED;
                return new TokenBucket(tokens - 1, now, bucket.period());
            }
            answer[0] = new Take.Refused(Duration.ofMillis(bucket.millisUntilOneToken(tokens)));
            return entry;
        });
        return answer[0];
    }

    @Override
    public Take peek(String key, Bucket bucket) {
        long now = now();
        double tokens = entries.getIfPresent(key) instanceof TokenBucket held
                ? bucket.refill(held.tokens(), now - held.updated()) : bucket.capacity();
        return tokens >= 1 ? Take.ALLOWED : new Take.Refused(Duration.ofMillis(bucket.millisUntilOneToken(tokens)));
    }

    @Override
    public long countDistinct(String key, String member, Duration window) {
        long now = now();
        long[] count = new long[1];
        entries.asMap().compute(key, (ignored, entry) -> {
            LinkedHashMap<String, Long> seen = entry instanceof Window held ? held.seen() : new LinkedHashMap<>();
            seen.remove(member);
            seen.put(member, now);
            Iterator<Map.Entry<String, Long>> oldest = seen.entrySet().iterator();
            while (oldest.hasNext()) {
                Map.Entry<String, Long> next = oldest.next();
                if (next.getValue() > now - window.toMillis() && seen.size() <= MAX_MEMBERS) {
                    break;
                }
                oldest.remove();
            }
            count[0] = seen.size();
            return new Window(seen, window);
        });
        return count[0];
    }

    @Override
    public long peekDistinct(String key, String member, Duration window) {
        long since = now() - window.toMillis();
        long[] count = {1};
        // Read under the key's lock, as countDistinct writes under it; the window is returned unchanged.
        entries.asMap().computeIfPresent(key, (ignored, entry) -> {
            if (entry instanceof Window held) {
                held.seen().forEach((seen, at) -> {
                    if (at > since && !seen.equals(member)) {
                        count[0]++;
                    }
                });
            }
            return entry;
        });
        return Math.min(count[0], MAX_MEMBERS);
    }

    @Override
    public boolean remote() {
        return false;
    }

    @Override
    public void close() {
        entries.invalidateAll();
    }
}
