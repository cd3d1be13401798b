package dev.matrixpolicy.gateway.policyserver;

/**
 * A federation request whose {@code X-Matrix} authentication does not hold: no or a malformed
 * header, a destination other than our server name, no key of the origin's to check with, or a
 * signature that does not verify. The endpoint answers 401 {@code M_UNAUTHORIZED}, as Synapse does.
 */
public final class UnauthorizedException extends RuntimeException {
    public UnauthorizedException(String message) {
        super(message);
    }

    public UnauthorizedException(String message, Throwable cause) {
        super(message, cause);
    }
}
