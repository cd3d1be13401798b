package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import java.time.Duration;
import java.util.Optional;

/**
 * A module's backend gave no usable answer: an expected condition, which the module answers by its
 * own failure handling (usually its {@link FailureMode}), never a bug. The one classification every
 * module shares, made by {@link Backend}: what went wrong ({@link Kind}), whether another attempt
 * may help ({@link #retryable()}), how the {@value BackendTimer#NAME} timer counts it
 * ({@link #outcome()}), and a one-line description ({@link #getMessage()}) for the WARN line that
 * never quotes the URL, the request or a token. Carries no stack trace.
 *
 * <p>A module's {@link Backend.ReplyReader} throws the two kinds that only the module can tell:
 * {@link #status(int)} for a status its contract does not answer, {@link #unusable(String)} for a
 * reply it cannot use.
 */
public final class BackendFailure extends RuntimeException {
    /** How long a description may be: an unusable reply may quote what the backend sent. */
    private static final int MAX_DESCRIPTION = 300;

    /** What went wrong. */
    public enum Kind {
        /** No connection, or it broke: another attempt may find the backend back. */
        UNREACHABLE,
        /**
         * The backend's TLS certificate was refused (not trusted, expired, or for another name): it is
         * unusable until someone fixes its certificate or the module's URL, and another attempt would
         * be shown the same certificate.
         */
        CERTIFICATE,
        /** No answer in time: another attempt may be luckier. */
        TIMEOUT,
        /** An error status the module's contract does not answer; 5xx, 408 and 429 are worth another attempt. */
        STATUS,
        /** A reply longer than the module's {@code max-reply-size}: asking again would bring the same. */
        TOO_LARGE,
        /** A reply the module cannot use: asking again would bring the same. */
        UNUSABLE,
        /**
         * The reply was not read: the module backends' replies being read at once hold all the share
         * of the heap they may take ({@link Backend#REPLY_MEMORY}). Says nothing about this backend;
         * asking again at once would add to the load that filled it.
         */
        BUSY,
        /** The module's circuit breaker is open: no request was made. */
        CIRCUIT_OPEN,
        /** The calling thread was interrupted: the chain stopped waiting (its deadline), or shutdown. */
        INTERRUPTED
    }

    private final Kind kind;
    private final int status;
    private final int attempts;
    /** Null when the backend did not say (an exception is serializable, an Optional is not). */
    private final Duration retryAfter;

    private BackendFailure(Kind kind, int status, String description, int attempts, Duration retryAfter) {
        super(oneLine(description), null, false, false);
        this.kind = kind;
        this.status = status;
        this.attempts = attempts;
        this.retryAfter = retryAfter;
    }

    /** The backend answered {@code status}, which the module's contract does not accept. */
    public static BackendFailure status(int status) {
        return new BackendFailure(Kind.STATUS, status, "HTTP " + status, 0, null);
    }

    /** The backend's reply cannot be used: {@code problem} says why, in a few words. */
    public static BackendFailure unusable(String problem) {
        return new BackendFailure(Kind.UNUSABLE, 0, "unusable answer: " + problem, 0, null);
    }

    static BackendFailure of(Kind kind, String description) {
        return new BackendFailure(kind, 0, description, 0, null);
    }

    /** The same failure, as the end of {@code attempts} attempts. */
    BackendFailure after(int attempts) {
        return new BackendFailure(kind, status, getMessage(), attempts, retryAfter);
    }

    /**
     * The same status failure, with how long the backend asked to wait before the next attempt
     * (the {@code Retry-After} of a 429 or 503, see {@link BackendReply#retryAfter()}); any other
     * failure as it is.
     */
    BackendFailure retryAfter(Optional<Duration> asked) {
        return kind != Kind.STATUS || asked.isEmpty() ? this
                : new BackendFailure(kind, status, getMessage() + ", Retry-After " + asked.get().toSeconds() + "s", attempts, asked.get());
    }

    /** How long the backend asked to wait before the next attempt, if it said. */
    Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    public Kind kind() {
        return kind;
    }

    /**
     * Whether another attempt may help: connection errors, timeouts, and the statuses that say so
     * (5xx: the backend is in trouble now, and may not be later; 408 and 429: it asked to be called
     * again). Any other status, a reply too large or unusable, says the request or the contract is
     * wrong, and sending the same request again cannot change that.
     */
    public boolean retryable() {
        return switch (kind) {
            case UNREACHABLE, TIMEOUT -> true;
            case STATUS -> (status >= 500 && status <= 599) || status == 408 || status == 429; // not 999: no standard says what it is
            case CERTIFICATE, TOO_LARGE, UNUSABLE, BUSY, CIRCUIT_OPEN, INTERRUPTED -> false;
        };
    }

    /**
     * Whether the failure says the backend is unusable now, whatever is asked of it: the retryable
     * failures, and a refused certificate, which no attempt fixes but which every request meets
     * alike. A 404, a 3xx, an unusable or oversized reply says the request or the contract is wrong;
     * an open circuit and an interruption say nothing about the backend.
     */
    boolean saysTheBackendIsUnavailable() {
        return retryable() || kind == Kind.CERTIFICATE;
    }

    /** How the {@value BackendTimer#NAME} timer counts the attempt, and the {@code failure} key of the WARN line. */
    public Outcome outcome() {
        return Outcome.failure(kind == Kind.TIMEOUT || kind == Kind.INTERRUPTED);
    }

    /** The attempts made before giving up, this one included; 0 when none was (an open circuit). */
    public int attempts() {
        return attempts;
    }

    /**
     * White space as one space, and what is left that could forge a log line or recolour a terminal
     * escaped: a description may quote what the backend sent (a status line, a JSON string).
     */
    private static String oneLine(String description) {
        String line = LogText.controlsEscaped(description.replaceAll("\\s+", " "));
        return line.length() <= MAX_DESCRIPTION ? line : LogText.head(line, MAX_DESCRIPTION) + "...";
    }
}
