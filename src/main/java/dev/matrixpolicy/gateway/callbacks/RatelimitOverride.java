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
 * @param perSecond  actions per second the user's bucket drains by, above 0
 * @param burstCount actions the user may take at once, 0 or more (0 refuses every action)
 */
public record RatelimitOverride(double perSecond, int burstCount) {
    public RatelimitOverride {
        if (!Double.isFinite(perSecond) || perSecond <= 0) {
            throw new IllegalArgumentException("per_second must be a number above 0, got " + perSecond
                    + " (Synapse fails the request on a rate of 0)");
        }
        if (burstCount < 0) {
            throw new IllegalArgumentException("burst_count must be 0 or more, got " + burstCount);
        }
    }
}
