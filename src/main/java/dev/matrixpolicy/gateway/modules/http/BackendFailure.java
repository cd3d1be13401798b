package dev.matrixpolicy.gateway.modules.http;

/**
 * The remote service could not be asked, or its answer cannot be used. An expected condition,
 * answered by the module's failure mode, never thrown out of the module.
 */
final class BackendFailure extends RuntimeException {
    private final boolean retryable;
    private final boolean timedOut;

    private BackendFailure(String description, boolean retryable, boolean timedOut, Throwable cause) {
        super(description, cause);
        this.retryable = retryable;
        this.timedOut = timedOut;
    }

    /** A connection failure or timeout: another attempt may succeed. */
    static BackendFailure unreachable(String description, boolean timedOut, Throwable cause) {
        return new BackendFailure(description, true, timedOut, cause);
    }

    /** An error status: 5xx and 429 are worth another attempt; other statuses would be answered the same again. */
    static BackendFailure status(int status) {
        return new BackendFailure("HTTP " + status, status >= 500 || status == 429, false, null);
    }

    /** A 2xx answer that is not the contract's: asking again would give the same answer. */
    static BackendFailure unusable(String problem, Throwable cause) {
        return new BackendFailure("unusable answer: " + problem, false, false, cause);
    }

    boolean retryable() {
        return retryable;
    }

    boolean timedOut() {
        return timedOut;
    }
}
