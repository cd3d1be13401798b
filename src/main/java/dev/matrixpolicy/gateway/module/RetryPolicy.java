package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.replies.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * How often a module's {@link Backend} tries one request, and how long it pauses in between. Only
 * {@linkplain BackendFailure#retryable() retryable failures} are tried again, and only for requests
 * that are {@linkplain BackendRequest#retried() retried} at all.
 *
 * @param maxAttempts attempts per request, the first included; 1 never retries
 * @param backoff     the pause before each retry
 * @param callerWaits whether a caller waits for the request's answer (a callback's): then a
 *                    {@code Retry-After} longer than the pause its {@linkplain #worstCase worst case}
 *                    counts before that retry ends the retries, within the caller's deadline. When
 *                    none does ({@link #inTheBackground}), the retries go on after the longer wait, up
 *                    to the backoff's longest pause
 */
public record RetryPolicy(int maxAttempts, Backoff backoff, boolean callerWaits) {
    /** One attempt, never retried. */
    public static final RetryPolicy NONE = new RetryPolicy(1, new Backoff(Duration.ZERO, Duration.ZERO));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        }
    }

    /** The retries of a request a caller waits for. */
    public RetryPolicy(int maxAttempts, Backoff backoff) {
        this(maxAttempts, backoff, true);
    }

    /**
     * The retries of a request no caller waits for (an audit webhook's delivery): a backend that asks
     * to be called later is waited for, up to the backoff's longest pause, rather than given up on
     * after one attempt, which would also leave the next request to be sent at once.
     */
    public static RetryPolicy inTheBackground(int maxAttempts, Backoff backoff) {
        return new RetryPolicy(maxAttempts, backoff, false);
    }

    /**
     * Whether the request is tried again after {@code failedAttempts} when the backend asked to wait
     * {@code asked} first: when a caller waits, only if that fits the longest pause before that retry.
     */
    boolean retriesAfter(int failedAttempts, Duration asked) {
        return !callerWaits || asked.compareTo(longestPause(failedAttempts)) <= 0;
    }

    /** The pause after {@code failedAttempts}: the backoff's, or the wait the backend asked when longer, up to the longest pause. */
    Duration pause(int failedAttempts, Duration asked, RandomGenerator random) {
        Duration drawn = backoff.delay(failedAttempts, random);
        Duration longest = longestPause(failedAttempts);
        Duration honoured = asked.compareTo(longest) > 0 ? longest : asked;
        return honoured.compareTo(drawn) > 0 ? honoured : drawn;
    }

    /**
     * The longest pause after {@code failedAttempts}: the backoff's ceiling for that retry; when no
     * caller waits, its highest ceiling, to which a backend's {@code Retry-After} may stretch any pause.
     */
    private Duration longestPause(int failedAttempts) {
        return backoff.ceiling(callerWaits ? failedAttempts : Integer.MAX_VALUE);
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
            Duration pause = longestPause(retry);
            time = time.plus(pause);
            pauses.add(Durations.format(pause));
        }
        return new WorstCase(time, maxAttempts + " attempts × (" + attempt.computation() + ") + " + backoffKey + " "
                + String.join(" + ", pauses));
    }
}
