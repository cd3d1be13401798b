package dev.matrixpolicy.gateway.modules.auditwebhook;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter: after the n-th failed attempt the ceiling is
 * {@code initial * 2^(n-1)}, capped at {@code max}, and the wait is drawn between half the ceiling
 * and the ceiling ("equal jitter"). The jitter keeps records that failed together (the webhook was
 * down) from all retrying at the same instant; the lower half keeps a minimum spacing.
 *
 * @param initial the ceiling after the first failure
 * @param max     the highest ceiling
 */
record Backoff(Duration initial, Duration max) {

    Duration delay(int failedAttempts, RandomGenerator random) {
        long ceiling = ceilingMillis(failedAttempts);
        long half = ceiling / 2;
        return Duration.ofMillis(half + random.nextLong(ceiling - half + 1));
    }

    long ceilingMillis(int failedAttempts) {
        long initialMillis = initial.toMillis();
        long maxMillis = max.toMillis();
        int doublings = Math.max(0, failedAttempts - 1);
        // Compare before shifting so that many attempts cannot overflow.
        if (doublings >= Long.SIZE - 1 || initialMillis > maxMillis >> doublings) {
            return maxMillis;
        }
        return initialMillis << doublings;
    }
}
