package dev.matrixpolicy.gateway.policyserver;

/**
 * The event cannot be signed as sent: not canonical-JSON-able (a float, an integer outside
 * [-(2^53)+1, 2^53-1], a lone surrogate) or not shaped like an event (no string {@code type}, no
 * object {@code content}). The endpoint answers 400 {@code M_BAD_JSON}.
 */
public final class BadJsonException extends IllegalArgumentException {
    public BadJsonException(String message) {
        super(message);
    }
}
