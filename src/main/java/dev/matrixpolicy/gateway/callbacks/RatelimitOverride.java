package dev.matrixpolicy.gateway.callbacks;

/**
 * Synapse's {@code RatelimitOverride}: the rate and burst a limiter applies to one user instead of
 * its configured ones.
 *
 * <p>{@code perSecond} must be above 0. Synapse's docs say {@code 0.0} disables rate limiting, but its
 * code divides by the rate when it records an allowed action ({@code Ratelimiter._record_action_inner}
 * in v1.157), so a zero rate fails the user's request with a 500. A very high rate and burst is how an
 * override lifts a limit.
 *
 * <p>Nor may the rate be so slow that a full burst takes more than {@value #LONGEST_DRAIN_SECONDS}
 * seconds (a day) to drain. Synapse remembers a user's actions until they have drained, in a timer
 * with one slot for every 5 seconds up to then, all made at once on the first action
 * ({@code WheelTimer.insert}): a day is about 17,000 slots, a rate of {@code 1e-9} about 200 million,
 * which exhausts Synapse's memory, and a rate near the smallest double overflows its arithmetic into
 * a 500.
 *
 * @param perSecond  actions per second the user's bucket drains by, at least {@link #slowestRate}
 * @param burstCount actions the user may take at once, 0 or more (0 refuses every action)
 */
public record RatelimitOverride(double perSecond, int burstCount) {
    /** The longest a full burst may take to drain. */
    public static final long LONGEST_DRAIN_SECONDS = 86_400;

    public RatelimitOverride {
        if (!Double.isFinite(perSecond) || perSecond <= 0) {
            throw new IllegalArgumentException("per_second must be a number above 0, got " + perSecond
                    + " (Synapse fails the request on a rate of 0)");
        }
        if (burstCount < 0) {
            throw new IllegalArgumentException("burst_count must be 0 or more, got " + burstCount);
        }
        if (perSecond < slowestRate(burstCount)) {
            throw new IllegalArgumentException("per_second must be at least " + slowestRate(burstCount) + " with a burst_count of "
                    + burstCount + ", got " + perSecond + " (Synapse keeps a timer slot for every 5 seconds until a "
                    + "user's actions drain, and runs out of memory when that is far away)");
        }
    }

    /** The slowest rate at which a full burst (or the one action of a burst of 0) drains within a day. */
    public static double slowestRate(int burstCount) {
        return Math.max(burstCount, 1) / (double) LONGEST_DRAIN_SECONDS;
    }
}
