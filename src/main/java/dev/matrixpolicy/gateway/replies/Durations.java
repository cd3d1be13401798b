package dev.matrixpolicy.gateway.replies;

import java.time.Duration;

/**
 * How the gateway writes a duration in a log line or an error message: as configuration writes it,
 * so that an administrator can find the setting by its value and paste the value back. Sizes are
 * written by {@link ReplyCap#format(long)}.
 */
public final class Durations {
    private Durations() {
    }

    /**
     * A duration exactly as configuration writes it, in the largest unit that holds it whole:
     * {@code 2s}, {@code 1500ms}, or {@code 500us} and {@code 1500ns} for the rare fraction of a
     * millisecond, never rounded. Durations past some 292 years (no setting's) are given in seconds.
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
