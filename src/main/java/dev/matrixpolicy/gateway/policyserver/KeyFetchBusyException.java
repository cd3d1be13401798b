package dev.matrixpolicy.gateway.policyserver;

/**
 * A federation request whose origin's keys are not cached, while as many fetches of other servers'
 * keys run as are allowed at once ({@link ServerKeys#MAX_CONCURRENT_FETCHES}): a moment's refusal,
 * not a verdict on the request. The endpoint answers 503, which the asking homeserver may retry.
 */
public final class KeyFetchBusyException extends RuntimeException {
    public KeyFetchBusyException(String message) {
        super(message, null, false, false);
    }
}
