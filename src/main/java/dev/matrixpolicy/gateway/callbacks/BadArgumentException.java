package dev.matrixpolicy.gateway.callbacks;

/**
 * A callback argument is missing or does not have the documented type or grammar.
 * Thrown while reading a request, before any module is asked.
 */
public final class BadArgumentException extends RuntimeException {

    /** Whether the argument was absent or present but wrong. */
    public enum Kind { MISSING, INVALID }

    private final Kind kind;
    private final String field;

    public BadArgumentException(Kind kind, String field, String message) {
        super(message, null, false, false);
        this.kind = kind;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    /** The dotted path of the offending field, e.g. {@code user_profile.user_id}. */
    public String field() {
        return field;
    }
}
