package dev.matrixpolicy.gateway.module;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The WARN lines of a failure that repeats, one a {@link #INTERVAL} for each kind: an outage (Redis
 * down, a backend refusing connections) fails every call, and a line each would bury the log at the
 * request rate. The first failure of a kind is a WARN at once; those that follow within the interval
 * are DEBUG lines, and the next WARN says how many there were. Metrics count every failure.
 *
 * <p>The kinds are the caller's keys (module, callback, failure): as many as the configuration has,
 * and at most {@value #MOST_KINDS}, past which the record starts afresh. Where the kinds come from
 * outside (a caller's address), {@link #atMost} also bounds the WARN lines of all kinds together.
 */
public final class RepeatedWarnings {
    /** How long the WARN line of one kind of failure stands for those that follow it. */
    public static final long INTERVAL_SECONDS = 10;
    static final long INTERVAL = TimeUnit.SECONDS.toNanos(INTERVAL_SECONDS);
    static final int MOST_KINDS = 10_000;

    private final Map<Object, Kind> kinds = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    /** The most WARN lines of all kinds together in one interval. */
    private final int mostWarnings;
    /** The interval the budget counts in, its WARN lines so far, and the lines past it; guarded by {@code this}. */
    private long budgetStart;
    private int budgetUsed;
    private long pastBudget;

    public RepeatedWarnings() {
        this(System::nanoTime, Integer.MAX_VALUE);
    }

    /**
     * Warnings of kinds that outsiders choose (one for each address a request came from), of which at
     * most {@code warnings} lines together are WARN in an interval: a client rotating its address
     * through an IPv6 prefix gets no WARN line for each request. The next WARN says how many there were.
     */
    public static RepeatedWarnings atMost(int warnings) {
        return new RepeatedWarnings(System::nanoTime, warnings);
    }

    RepeatedWarnings(LongSupplier nanoTime) {
        this(nanoTime, Integer.MAX_VALUE);
    }

    RepeatedWarnings(LongSupplier nanoTime, int mostWarnings) {
        this.nanoTime = nanoTime;
        this.mostWarnings = mostWarnings;
        this.budgetStart = nanoTime.getAsLong();
    }

    private static final class Kind {
        final AtomicLong warned;
        final AtomicLong since = new AtomicLong();

        Kind(long now) {
            warned = new AtomicLong(now - INTERVAL);
        }
    }

    /**
     * The line of one failure of kind {@code key}: a WARN, or a DEBUG when a WARN of its kind was
     * logged within the interval. Log it with {@link #withOmitted} at the end of its message.
     */
    public Line line(Logger log, Object key) {
        if (kinds.size() >= MOST_KINDS) {
            kinds.clear();
        }
        long now = nanoTime.getAsLong();
        Kind kind = kinds.computeIfAbsent(key, absent -> new Kind(now));
        long warned = kind.warned.get();
        if (now - warned >= INTERVAL) {
            long otherKinds = withinBudget(now);
            if (otherKinds >= 0 && kind.warned.compareAndSet(warned, now)) {
                return new Line(log.atLevel(Level.WARN), kind.since.getAndSet(0), otherKinds);
            }
        }
        kind.since.incrementAndGet();
        return new Line(log.atLevel(Level.DEBUG), 0, 0);
    }

    /**
     * Takes one WARN line of the interval's budget: how many lines went to DEBUG past the budget since
     * the last WARN (which the line then reports), or -1 when the budget is spent.
     */
    private synchronized long withinBudget(long now) {
        if (mostWarnings == Integer.MAX_VALUE) {
            return 0;
        }
        if (now - budgetStart >= INTERVAL) {
            budgetStart = now;
            budgetUsed = 0;
        }
        if (budgetUsed >= mostWarnings) {
            pastBudget++;
            return -1;
        }
        budgetUsed++;
        long past = pastBudget;
        pastBudget = 0;
        return past;
    }

    /**
     * A line to log, and how many of its kind went to DEBUG since the last WARN.
     *
     * @param event       the line's builder, at its level (a no-op when that level is off)
     * @param omitted     failures of the kind logged at DEBUG since the previous WARN
     * @param otherKinds  first lines of other kinds logged at DEBUG because the interval's WARN lines
     *                    were spent ({@link #atMost}), since the previous WARN of any kind
     */
    public record Line(LoggingEventBuilder event, long omitted, long otherKinds) {
        /** {@code message} and, after a run of DEBUG lines, how many there were. */
        public String withOmitted(String message) {
            String written = omitted == 0 ? message : message + " (and " + omitted + " more like it since the last such warning,"
                    + " logged at DEBUG)";
            return otherKinds == 0 ? written : written + " (and " + otherKinds + " of other kinds past the "
                    + INTERVAL_SECONDS + " s budget of warnings, logged at DEBUG)";
        }
    }
}
