package dev.matrixpolicy.gateway.callbacks;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A refusal with a Matrix error code, as Synapse's {@code Codes} (spam checker) or a raised
 * {@code SynapseError} ({@code on_create_room}). Served as HTTP 403 with
 * {@code {"errcode": ..., "error": ...}}, which is what synapse-http-antispam expects, with
 * {@code "retry_after_ms"} when the refusal says when to try again.
 *
 * @param errcode    a Matrix error code such as {@code M_FORBIDDEN}
 * @param error      an optional human-readable message for the end user
 * @param retryAfter when a limit refuses: how long until the user may try again. Our Synapse module
 *                   hands it to Synapse as the {@code retry_after_ms} field of the client's error for
 *                   the spam-checker callbacks that take extra fields (see docs/modules/rate-limits.md)
 */
public record Rejection(String errcode, Optional<String> error, Optional<Duration> retryAfter) implements SpamVerdict, RoomCreation {
    public static final String FORBIDDEN = "M_FORBIDDEN";
    /** Synapse's and the spec's code for a rate limit. */
    public static final String LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED";

    public Rejection {
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (!isErrcode(errcode)) {
            throw new IllegalArgumentException("not a Matrix error code: '" + errcode
                    + "' (expected upper-case words joined by '_', e.g. M_FORBIDDEN)");
        }
    }

    /** A refusal that does not say when to try again. */
    public Rejection(String errcode, Optional<String> error) {
        this(errcode, error, Optional.empty());
    }

    /** The same refusal, saying when to try again. */
    public Rejection retryAfter(Duration retryAfter) {
        return new Rejection(errcode, error, Optional.of(retryAfter));
    }

    public static Rejection of(String errcode) {
        return new Rejection(errcode, Optional.empty());
    }

    /** Error codes are upper-case ASCII words joined by underscores: {@code M_FORBIDDEN}, {@code ORG_MATRIX_EXPIRED_ACCOUNT}. */
    public static boolean isErrcode(String candidate) {
        if (candidate == null || candidate.length() < 3 || candidate.indexOf('_') <= 0 || candidate.endsWith("_")) {
            return false;
        }
        for (int i = 0; i < candidate.length(); i++) {
            char c = candidate.charAt(i);
            boolean allowed = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0) || c == '_';
            if (!allowed) {
                return false;
            }
        }
        return true;
    }
}
