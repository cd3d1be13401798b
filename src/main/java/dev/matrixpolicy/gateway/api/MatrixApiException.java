package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.replies.FailureCauses;
import java.time.Duration;
import java.util.Optional;
import org.apache.coyote.BadRequestException;
import org.springframework.http.HttpStatus;

/** A request the API refuses before any module is asked, with its Matrix error code. */
final class MatrixApiException extends RuntimeException {
    private final HttpStatus status;
    private final String errcode;
    /** A 405's {@code Allow} header, the methods the path answers; null for any other refusal. */
    private final String allow;
    /** A 429's wait before trying again; null for any other refusal. */
    private final Duration retryAfter;

    MatrixApiException(HttpStatus status, String errcode, String message) {
        this(status, errcode, message, null, null);
    }

    private MatrixApiException(HttpStatus status, String errcode, String message, String allow, Duration retryAfter) {
        super(message, null, false, false);
        this.status = status;
        this.errcode = errcode;
        this.allow = allow;
        this.retryAfter = retryAfter;
    }

    public static MatrixApiException unrecognized(String what) {
        return new MatrixApiException(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", what);
    }

    public static MatrixApiException notJson(String why) {
        return new MatrixApiException(HttpStatus.BAD_REQUEST, "M_NOT_JSON", why);
    }

    static MatrixApiException badJson(String why) {
        return new MatrixApiException(HttpStatus.BAD_REQUEST, "M_BAD_JSON", why);
    }

    public static MatrixApiException tooLarge(long limit) {
        return new MatrixApiException(HttpStatus.CONTENT_TOO_LARGE, "M_TOO_LARGE",
                "Request body is larger than the limit of " + limit + " bytes");
    }

    /** A request whose body had not come whole by {@code deadline}. */
    static MatrixApiException tooSlow(Duration deadline) {
        return new MatrixApiException(HttpStatus.REQUEST_TIMEOUT, "M_UNKNOWN",
                "Request body not received within " + (deadline.toMillis() % 1000 == 0 ? deadline.toSeconds() + " s" : deadline.toMillis() + " ms"));
    }

    /** A request whose body stopped coming: no byte within the connection timeout. */
    static MatrixApiException stalled() {
        return new MatrixApiException(HttpStatus.REQUEST_TIMEOUT, "M_UNKNOWN", "Request body not received: it stopped coming");
    }

    /**
     * A body Tomcat could not read to its end, which it answers 400 itself, through {@link JsonErrorReportValve}, with
     * this same error: its chunked framing is broken (Tomcat's {@link BadRequestException} among the causes), or the
     * client closed or reset its connection before all of it came. Not counted as a body that is not JSON: it was
     * not sent whole.
     */
    static MatrixApiException unreadBody(Throwable failure) {
        return FailureCauses.include(failure, BadRequestException.class)
                ? new MatrixApiException(HttpStatus.BAD_REQUEST, "M_UNKNOWN", "Malformed HTTP request: the body's framing is invalid")
                : bodyEndedEarly();
    }

    /** A body that ended before the length it declared. */
    static MatrixApiException bodyEndedEarly() {
        return new MatrixApiException(HttpStatus.BAD_REQUEST, "M_UNKNOWN",
                "Request body ended early: the connection was closed before all of it came");
    }

    /** A request whose body, coming too slowly, was cut short to give its place to another (the policy server's listener). */
    static MatrixApiException cutForRoom() {
        return new MatrixApiException(HttpStatus.REQUEST_TIMEOUT, "M_UNKNOWN",
                "Request body not received: it came too slowly while every place for requests was taken");
    }

    /** A request the gateway has no room for now, 503: it may be sent again shortly. */
    static MatrixApiException busy(String why) {
        return new MatrixApiException(HttpStatus.SERVICE_UNAVAILABLE, "M_UNKNOWN", why);
    }

    /**
     * A body that, as it comes or with the tree it may be made into, does not fit the heap its listener's requests
     * share now, 503 {@code M_LIMIT_EXCEEDED}: the gateway's own state, not a verdict, which our
     * Synapse module tells from a module's fail-closed 503 ({@code M_UNKNOWN}) and answers by its
     * configured failure policy.
     */
    static MatrixApiException overloaded(String share) {
        return new MatrixApiException(HttpStatus.SERVICE_UNAVAILABLE, "M_LIMIT_EXCEEDED",
                "Too many requests are being answered at once to hold this one's body and its tree in their share of the heap, "
                        + share + "; try again shortly");
    }

    /**
     * A request past the policy API's requests in flight ({@link RequestsInFlight}), 503
     * {@code M_LIMIT_EXCEEDED}, which our Synapse module answers by the callback's failure policy.
     */
    static MatrixApiException tooManyInFlight(int limit) {
        return new MatrixApiException(HttpStatus.SERVICE_UNAVAILABLE, "M_LIMIT_EXCEEDED",
                "Too many requests are being answered at once (" + limit + ", as many as the gateway's heap holds); try again shortly");
    }

    static MatrixApiException notFound(String what) {
        return new MatrixApiException(HttpStatus.NOT_FOUND, "M_NOT_FOUND", what);
    }

    static MatrixApiException forbidden(HttpStatus status, String why) {
        return new MatrixApiException(status, "M_FORBIDDEN", why);
    }

    /**
     * A method the path does not answer, 405, with the {@code Allow} header RFC 9110 asks for.
     *
     * @param allow the header's value, the methods the path answers ({@code "POST, OPTIONS"}); null when unknown
     */
    static MatrixApiException methodNotAllowed(String method, String allow) {
        return new MatrixApiException(HttpStatus.METHOD_NOT_ALLOWED, "M_UNRECOGNIZED", "Method " + method + " is not supported here", allow, null);
    }

    /** Too many requests, 429 {@code M_LIMIT_EXCEEDED}, with the spec's {@code retry_after_ms}: a token is back after {@code retryAfter}. */
    static MatrixApiException limitExceeded(String why, Duration retryAfter) {
        return new MatrixApiException(HttpStatus.TOO_MANY_REQUESTS, "M_LIMIT_EXCEEDED", why, null, retryAfter);
    }

    HttpStatus status() {
        return status;
    }

    String errcode() {
        return errcode;
    }

    Optional<String> allow() {
        return Optional.ofNullable(allow);
    }

    Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
