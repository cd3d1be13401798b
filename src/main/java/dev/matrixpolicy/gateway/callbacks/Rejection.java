package dev.matrixpolicy.gateway.callbacks;

import java.util.Objects;
import java.util.Optional;

/**
 * A refusal with a Matrix error code, as Synapse's {@code Codes} (spam checker) or a raised
 * {@code SynapseError} ({@code on_create_room}). Served as HTTP 403 with
 * {@code {"errcode": ..., "error": ...}}, which is what synapse-http-antispam expects.
 *
 * @param errcode a Matrix error code such as {@code M_FORBIDDEN}
 * @param error   an optional human-readable message for the end user
 */
public record Rejection(String errcode, Optional<String> error) implements SpamVerdict, RoomCreation {
    public static final String FORBIDDEN = "M_FORBIDDEN";

    public Rejection {
        Objects.requireNonNull(error, "error");
        if (!isErrcode(errcode)) {
            throw new IllegalArgumentException("not a Matrix error code: '" + errcode
                    + "' (expected upper-case words joined by '_', e.g. M_FORBIDDEN)");
        }
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
