package dev.matrixpolicy.gateway.state;

/**
 * The shared state could not answer: Redis is down, slow (past {@code policy-gateway.state.redis.timeout})
 * or refused the command. A module lets it go up, so that its entry's {@code on-failure} decides:
 * {@code fail-closed} fails the question (503), {@code fail-open} lets the rest of the chain decide.
 * The message never quotes the URL (it may carry a password).
 */
public final class StateUnavailableException extends RuntimeException {
    public StateUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
