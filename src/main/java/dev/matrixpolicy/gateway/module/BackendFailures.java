package dev.matrixpolicy.gateway.module;

import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.web.client.RestClientException;

/**
 * How a module classifies a failed call to its backend, and describes it in one line of its WARN
 * log. A {@link RestClientException}'s own message names the request URL, which may carry a secret
 * (a token in the query string) or user data (a 3PID in a parameter): a module never logs it, and
 * these descriptions name what went wrong under it instead.
 */
public final class BackendFailures {
    /** How deep {@link #causes} looks: enough for Spring's wrapper, the I/O error and its reason. */
    private static final int MAX_CAUSES = 4;

    private BackendFailures() {
    }

    /**
     * Whether the call failed for want of an answer in time: an {@link HttpTimeoutException} (the JDK
     * client's connect timeout, Spring's read timeout) or a {@link SocketTimeoutException} anywhere
     * among the causes.
     */
    public static boolean isTimeout(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof HttpTimeoutException || cause instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The I/O error under Spring's wrapper, by type and message, e.g.
     * {@code ConnectException: Connection refused}; the wrapper's type alone when it wraps nothing.
     */
    public static String cause(RestClientException failure) {
        Throwable cause = failure.getCause() == null ? failure : failure.getCause();
        String message = cause == failure ? null : cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    /**
     * The causes under the failure, outermost first and at most four, e.g.
     * {@code ConnectException <- ClosedChannelException}, each with its message in parentheses when it
     * has one; the failure's own type alone when it has no cause.
     */
    public static String causes(Throwable failure) {
        List<String> causes = new ArrayList<>();
        for (Throwable cause = failure.getCause(); cause != null && causes.size() < MAX_CAUSES; cause = cause.getCause()) {
            causes.add(cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"));
        }
        return causes.isEmpty() ? failure.getClass().getSimpleName() : String.join(" <- ", causes);
    }
}
