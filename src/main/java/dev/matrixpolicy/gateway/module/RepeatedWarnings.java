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
 * and at most {@value #MOST_KINDS}, past which the record starts afresh.
 */
public final class RepeatedWarnings {
    /** How long the WARN line of one kind of failure stands for those that follow it. */
    public static final long INTERVAL_SECONDS = 10;
    static final long INTERVAL = TimeUnit.SECONDS.toNanos(INTERVAL_SECONDS);
    static final int MOST_KINDS = 10_000;

    private final Map<Object, Kind> kinds = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;

    public RepeatedWarnings() {
        this(System::nanoTime);
    }

    RepeatedWarnings(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
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
        if (now - warned >= INTERVAL && kind.warned.compareAndSet(warned, now)) {
            return new Line(log.atLevel(Level.WARN), kind.since.getAndSet(0));
        }
        kind.since.incrementAndGet();
        return new Line(log.atLevel(Level.DEBUG), 0);
    }

    /**
     * A line to log, and how many of its kind went to DEBUG since the last WARN.
     *
     * @param event   the line's builder, at its level (a no-op when that level is off)
     * @param omitted failures of the kind logged at DEBUG since the previous WARN
     */
    public record Line(LoggingEventBuilder event, long omitted) {
        /** {@code message} and, after a run of DEBUG lines, how many there were. */
        public String withOmitted(String message) {
            return omitted == 0 ? message : message + " (and " + omitted + " more like it since the last such warning,"
                    + " logged at DEBUG)";
        }
    }
}
