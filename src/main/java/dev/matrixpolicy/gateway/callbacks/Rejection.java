package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.matrix.LogText;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

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
    /** The message a refusal without one of its own is answered with on the policy API. */
    public static final String DEFAULT_ERROR = "Forbidden by policy";

    public Rejection {
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (!isErrcode(errcode)) {
            throw new IllegalArgumentException("not a Matrix error code: " + (errcode == null ? "null" : LogText.quoted(errcode))
                    + " (expected upper-case words joined by '_', at most " + LONGEST_ERRCODE + " characters, e.g. M_FORBIDDEN)");
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

    /**
     * This refusal as the homeserver may pass it on to a user when it was written outside the gateway
     * (a remote policy service's answer): an error code a client acts on by ending or suspending the
     * session ({@code M_UNKNOWN_TOKEN} logs the user out) becomes {@code M_FORBIDDEN}, and the message
     * is {@linkplain #shownText shown text} of at most {@value #LONGEST_ERROR_SHOWN} characters.
     */
    public Rejection fromOutside() {
        String code = SESSION_CODES.contains(errcode) ? FORBIDDEN : errcode;
        return new Rejection(code, error.map(message -> shownText(message, LONGEST_ERROR_SHOWN)), retryAfter);
    }

    private static final int REPLACEMENT_CHARACTER = 0xFFFD;

    /** The longest message of a refusal from outside the gateway that a user is shown. */
    public static final int LONGEST_ERROR_SHOWN = 1000;

    /** Error codes clients act on by ending or suspending the user's session, never only by showing them. */
    private static final Set<String> SESSION_CODES = Set.of("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED",
            "M_USER_LOCKED", "M_USER_SUSPENDED");

    /**
     * Text written outside the gateway (a remote service's message, a policy list's reason) as a user
     * may be shown it: without control characters (white space ones become a space) and without the
     * bidirectional formatting characters that would make what follows them read backwards, each
     * half of a character alone (a lone surrogate, which a JSON escape can carry but no UTF-8 can:
     * the homeserver would fail writing the user's answer) made U+FFFD, cut to {@code most}
     * characters ({@code …} marking the cut, never half a character).
     */
    public static String shownText(String text, int most) {
        StringBuilder shown = new StringBuilder(Math.min(text.length(), most + 1));
        for (int i = 0; i < text.length(); ) {
            int codePoint = text.codePointAt(i);
            i += Character.charCount(codePoint);
            if (codePoint <= Character.MAX_VALUE && Character.isSurrogate((char) codePoint)) { // unpaired
                codePoint = REPLACEMENT_CHARACTER;
            }
            boolean space = Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint);
            boolean dropped = !space && (Character.isISOControl(codePoint) || isBidiFormatting(codePoint));
            int width = space ? 1 : dropped ? 0 : Character.charCount(codePoint);
            if (shown.length() + width > most) {
                return shown.append('…').toString();
            }
            if (space) {
                shown.append(' ');
            } else if (!dropped) {
                shown.appendCodePoint(codePoint);
            }
        }
        return shown.toString();
    }

    /** The marks, embeddings, overrides and isolates of Unicode's bidirectional algorithm. */
    private static boolean isBidiFormatting(int codePoint) {
        return codePoint == 0x061C || codePoint == 0x200E || codePoint == 0x200F
                || (codePoint >= 0x202A && codePoint <= 0x202E) || (codePoint >= 0x2066 && codePoint <= 0x2069);
    }

    /**
     * The longest error code taken. The spec's and Synapse's are a few dozen characters; a remote service's
     * code is written into every refusal's log line, the decision log and the homeserver's answer, so one
     * of a megabyte must not pass for a code.
     */
    public static final int LONGEST_ERRCODE = 255;

    /**
     * Error codes are upper-case ASCII words joined by underscores, {@code M_FORBIDDEN},
     * {@code ORG_MATRIX_EXPIRED_ACCOUNT}, of at most {@value #LONGEST_ERRCODE} characters.
     */
    public static boolean isErrcode(String candidate) {
        if (candidate == null || candidate.length() < 3 || candidate.length() > LONGEST_ERRCODE
                || candidate.indexOf('_') <= 0 || candidate.endsWith("_")) {
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
