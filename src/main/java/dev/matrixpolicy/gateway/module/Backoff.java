package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.replies.Durations;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * The pause before a retry, the one rule for every module that retries its backend: exponential,
 * capped, with jitter. After the n-th failed attempt the ceiling is {@code initial * 2^(n-1)},
 * capped at {@code max}, and the pause is drawn between half the ceiling and the ceiling ("equal
 * jitter"). The jitter keeps calls that failed together (the backend was down) from all retrying at
 * the same instant; the lower half keeps a minimum spacing; the ceiling is what a worst case adds up.
 *
 * @param initial the ceiling after the first failure; a negative one counts as zero
 * @param max     the highest ceiling
 */
public record Backoff(Duration initial, Duration max) {

    /**
     * A backoff from configuration, checked: the cap must not be below the first pause.
     *
     * @param maxKey the configuration key of {@code max}, for the startup error
     * @throws ModuleConfigurationException when {@code max} is shorter than {@code initial}
     */
    public static Backoff of(String initialKey, Duration initial, String maxKey, Duration max) {
        if (max.compareTo(initial) < 0) {
            throw new ModuleConfigurationException(maxKey, "must not be shorter than " + initialKey + " (" + Durations.format(initial) + ")");
        }
        return new Backoff(initial, max);
    }

    /** The pause after {@code failedAttempts} failed attempts (from 1), drawn between half the ceiling and the ceiling. */
    public Duration delay(int failedAttempts, RandomGenerator random) {
        long ceiling = ceiling(failedAttempts).toMillis();
        long half = ceiling / 2;
        return Duration.ofMillis(half + random.nextLong(ceiling - half + 1));
    }

    /** The longest pause after {@code failedAttempts} failed attempts (from 1), whole milliseconds. */
    public Duration ceiling(int failedAttempts) {
        long initialMillis = Math.max(0, initial.toMillis());
        long maxMillis = Math.max(initialMillis, max.toMillis());
        int doublings = Math.max(0, failedAttempts - 1);
        // Compare before shifting so that many attempts cannot overflow.
        if (doublings >= Long.SIZE - 1 || initialMillis > maxMillis >> doublings) {
            return Duration.ofMillis(maxMillis);
        }
        return Duration.ofMillis(initialMillis << doublings);
    }
}
