package dev.matrixpolicy.gateway.policyserver;

/**
 * A request that needs keys not cached, while as many fetches of other servers' keys run as are
 * allowed at once ({@link ServerKeys#MAX_CONCURRENT_FETCHES}), or whose fetch is still running when
 * the request's {@link KeyWait} ends: no verdict on the request, but the endpoint answers 503, which
 * Synapse takes for a refusal as it takes a 401.
 */
public final class KeyFetchBusyException extends RuntimeException {
    KeyFetchBusyException(String message) {
        super(message, null, false, false);
    }
}
