package dev.matrixpolicy.gateway.replies;

import java.io.IOException;

/**
 * A reply longer than its {@link ReplyCap}: the message names the limit as configuration writes it,
 * e.g. {@code reply larger than max-reply-size 1MB}. An {@link IOException}, so that it surfaces
 * through a parser reading the capped stream; callers turn it into their own failure. No stack trace.
 */
public final class ReplyTooLargeException extends IOException {
    ReplyTooLargeException(ReplyCap cap) {
        super("reply larger than " + cap, null);
        setStackTrace(new StackTraceElement[0]);
    }

    /** The cap, wherever it lies in {@code failure}'s causes (a parser wraps what its stream throws), or null. */
    public static ReplyTooLargeException in(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof ReplyTooLargeException tooLarge) {
                return tooLarge;
            }
        }
        return null;
    }
}
