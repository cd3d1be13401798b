package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.replies.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How often a module's {@link Backend} tries one request, and how long it pauses in between. Only
 * {@linkplain BackendFailure#retryable() retryable failures} are tried again, and only for requests
 * that are {@linkplain BackendRequest#retried() retried} at all.
 *
 * @param maxAttempts attempts per request, the first included; 1 never retries
 * @param backoff     the pause before each retry
 */
public record RetryPolicy(int maxAttempts, Backoff backoff) {
    /** One attempt, never retried. */
    public static final RetryPolicy NONE = new RetryPolicy(1, new Backoff(Duration.ZERO, Duration.ZERO));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        }
    }

    /**
     * The longest a retried request can take: every attempt at its longest, plus the longest pause
     * before each retry (the {@linkplain Backoff#ceiling ceiling}: the jitter only shortens it). Derived
     * from the same backoff the retries pause by, so the two cannot drift apart.
     *
     * @param attempt    one attempt at its longest, e.g. {@link WorstCase#ofRequest}
     * @param backoffKey the configuration key of the first pause, for the computation, e.g. {@code retry-backoff}
     */
    public WorstCase worstCase(WorstCase attempt, String backoffKey) {
        if (maxAttempts == 1) {
            return attempt;
        }
        Duration time = attempt.time().multipliedBy(maxAttempts);
        List<String> pauses = new ArrayList<>();
        for (int retry = 1; retry < maxAttempts; retry++) {
            Duration pause = backoff.ceiling(retry);
            time = time.plus(pause);
            pauses.add(Durations.format(pause));
        }
        return new WorstCase(time, maxAttempts + " attempts × (" + attempt.computation() + ") + " + backoffKey + " "
                + String.join(" + ", pauses));
    }
}
