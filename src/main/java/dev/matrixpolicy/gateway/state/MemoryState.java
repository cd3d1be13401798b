package dev.matrixpolicy.gateway.state;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The state of one process, the default: nothing to install, and right for a single replica (with
 * several, each enforces its own limits). Bounded in bytes, not keys: the keys hold user and room IDs
 * of up to 255 bytes that any homeserver's users choose, so a million keys were 600 MB; past
 * {@code maxBytes} (a quarter of the heap by default) Caffeine evicts the keys it judges least likely
 * to be used again, by how often and how recently each was used: not strictly the least recently
 * used. Each key is forgotten once its state no longer matters (a bucket after its period, a window
 * after its length).
 *
 * <p>Time is a monotonic ticker ({@link System#nanoTime()}), never the wall clock: a clock stepped
 * back (NTP, a VM resumed) would otherwise stop refills until it caught up again. The one ticker
 * times the refills, the windows and the cache's expiry.
 */
public final class MemoryState implements SharedState {
    /*
     * The overheads are upper bounds, with compressed references (any heap under 32 GB) and JDK 25's
     * 12-byte object headers, from the objects' sizes (JOL) and checked against the heap a fill of
     * keys takes (MemoryStateFootprint); the CHM's and the linked map's tables count 4 bytes a slot,
     * at most 2.67 slots an entry between resizes.
     */
    /**
     * What a key holding a token bucket costs besides its text: the String (24) and its array's header
     * and padding (16 + up to 7), Caffeine's node (56), the map's node (32) and table slots (up to 11),
     * the bucket (32); 165 to 178 bytes.
     */
    static final int KEY_OVERHEAD = 180;
    /**
     * What a key holding a window costs besides its text and its members: as {@link #KEY_OVERHEAD}
     * without the bucket (up to 146), the window (32), its linked map (64), the map's entry set (24)
     * and first table of 16 slots (80); up to 346 bytes.
     */
    static final int WINDOW_KEY_OVERHEAD = 350;
    /**
     * What a window's member costs besides its text: the linked map's entry (40), the boxed time (24),
     * the String (24) and its array's header and padding (16 + up to 7), table slots (up to 11); 106
     * to 122 bytes.
     */
    static final int MEMBER_OVERHEAD = 125;

    private final LongSupplier ticker;
    private final Cache<String, Entry> entries;
    private final long maxBytes;
    /** Keys forgotten for room while their state still mattered. */
    private final LongAdder evicted = new LongAdder();

    /** A state on {@link System#nanoTime()}, holding at most a quarter of the heap (16 MiB at least). */
    public MemoryState() {
        this(System::nanoTime, Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4));
    }

    /**
     * @param ticker   a monotonic time in nanoseconds, as {@link System#nanoTime()}: only differences count
     * @param maxBytes the most the keys and what they hold may take, as {@link #weight} estimates it
     */
    public MemoryState(LongSupplier ticker, long maxBytes) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.maxBytes = maxBytes;
        this.entries = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher(MemoryState::weight)
                .evictionListener((String key, Entry entry, RemovalCause cause) -> {
                    if (cause == RemovalCause.SIZE) {
                        evicted.increment();
                    }
                })
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

    /**
     * Members by the time they were last seen, oldest first.
     *
     * @param memberChars the members' lengths added up, kept as they come and go (a pass over up to
     *                    {@link #MAX_MEMBERS} at each write would cost too much; the last member's length
     *                    standing for all let a client weigh its window with one short member)
     */
    private record Window(LinkedHashMap<String, Long> seen, Duration lifetime, long memberChars) implements Entry {
    }

    /** An estimate of the bytes a key and its entry take (IDs are ASCII, a byte a character). */
    private static int weight(String key, Entry entry) {
        long bytes = key.length() + (entry instanceof Window window
                ? WINDOW_KEY_OVERHEAD + (long) window.seen().size() * MEMBER_OVERHEAD + window.memberChars()
                : KEY_OVERHEAD);
        return (int) Math.min(bytes, Integer.MAX_VALUE);
    }

    /** The bytes the keys take now, as {@link #weight} estimates them, once pending evictions are done. */
    public long estimatedBytes() {
        entries.cleanUp();
        return entries.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }

    /** The most bytes the keys may take. */
    public long maxBytes() {
        return maxBytes;
    }

    /**
     * How many keys were forgotten for room while their state still mattered, since the start: each
     * a bucket that comes back full, a window that comes back empty. Keys that no longer mattered
     * (expired) are not counted.
     */
    public long evictions() {
        return evicted.sum();
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
            long chars = entry instanceof Window held ? held.memberChars() : 0;
            if (seen.remove(member) == null) {
                chars += member.length();
            }
            seen.put(member, now);
            Iterator<Map.Entry<String, Long>> oldest = seen.entrySet().iterator();
            while (oldest.hasNext()) {
                Map.Entry<String, Long> next = oldest.next();
                if (next.getValue() > now - window.toMillis() && seen.size() <= MAX_MEMBERS) {
                    break;
                }
                chars -= next.getKey().length();
                oldest.remove();
            }
            count[0] = seen.size();
            return new Window(seen, window, chars);
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
