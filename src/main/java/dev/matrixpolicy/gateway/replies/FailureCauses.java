package dev.matrixpolicy.gateway.replies;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A failed call's causes in one line, the one way every caller of a backend, list server or
 * homeserver describes why no reply came: the JDK's HTTP client throws a {@code ConnectException}
 * without a message for a refused connection and a host name that does not resolve alike, and only
 * its causes ({@code ClosedChannelException}, {@code UnresolvedAddressException}) tell them apart.
 * And the one walk of a failure's causes for a type among them ({@link #include}), wrapped as deep as
 * a client or a container wraps it.
 */
public final class FailureCauses {
    /** How deep a description looks: enough for a client's wrapper, the I/O error and its reason. */
    private static final int MAX_CAUSES = 4;

    private FailureCauses() {
    }

    /**
     * The causes under the failure, outermost first and at most four, e.g.
     * {@code ConnectException <- ClosedChannelException}, each with its message in parentheses when it
     * has one; the failure's own type alone when it has no cause.
     */
    public static String of(Throwable failure) {
        return failure.getCause() == null ? failure.getClass().getSimpleName()
                : chain(failure.getCause(), cause -> cause.getClass().getSimpleName()
                        + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"));
    }

    /**
     * The failure's type and its causes', outermost first and at most four, without any message, e.g.
     * {@code IllegalArgumentException}: for a failure whose message may quote a request header (the
     * {@code Authorization} header's token included).
     */
    public static String types(Throwable failure) {
        return chain(failure, cause -> cause.getClass().getSimpleName());
    }

    /** Whether the failure, or any of its causes, is of one of these types: what a failure turns on, wrapped or not. */
    @SafeVarargs
    public static boolean include(Throwable failure, Class<? extends Throwable>... types) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            for (Class<? extends Throwable> type : types) {
                if (type.isInstance(cause)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String chain(Throwable first, Function<Throwable, String> describe) {
        List<String> chain = new ArrayList<>();
        for (Throwable cause = first; cause != null && chain.size() < MAX_CAUSES; cause = cause.getCause()) {
            chain.add(describe.apply(cause));
        }
        return String.join(" <- ", chain);
    }
}
