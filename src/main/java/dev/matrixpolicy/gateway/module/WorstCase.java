package dev.matrixpolicy.gateway.module;

import java.time.Duration;
import java.util.Objects;

/**
 * The longest one call of a module can take before the module gives up on its backend by itself
 * and answers by its own failure handling, as its settings bound it, with how that bound is
 * computed, for the administrator who has to compare it with the entry's {@code timeout}.
 *
 * @param time        the bound: every wait the module may make in one call, at its longest
 * @param computation how {@code time} follows from the module's settings, in their configuration
 *                    names, e.g. {@code connect-timeout 1s + timeout 2s}
 */
public record WorstCase(Duration time, String computation) {
    public WorstCase {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(computation, "computation");
    }

    /**
     * One request to a backend, by the keys of the built-in modules: connecting within
     * {@code connect-timeout}, then waiting for the answer within {@code timeout}.
     */
    public static WorstCase ofRequest(Duration connectTimeout, Duration timeout) {
        return new WorstCase(connectTimeout.plus(timeout), "connect-timeout " + format(connectTimeout) + " + timeout " + format(timeout));
    }

    /**
     * A duration exactly as configuration writes it, in the largest unit that holds it whole:
     * {@code 2s}, {@code 1500ms}, or {@code 500us} and {@code 1500ns} for the rare fraction of a
     * millisecond. Durations past some 292 years (no setting's) are given in seconds.
     */
    public static String format(Duration duration) {
        if (duration.getNano() == 0) {
            return duration.getSeconds() + "s";
        }
        long nanos;
        try {
            nanos = duration.toNanos();
        } catch (ArithmeticException tooLong) {
            return duration.getSeconds() + "s";
        }
        if (nanos % 1_000_000 == 0) {
            return nanos / 1_000_000 + "ms";
        }
        return nanos % 1_000 == 0 ? nanos / 1_000 + "us" : nanos + "ns";
    }
}
