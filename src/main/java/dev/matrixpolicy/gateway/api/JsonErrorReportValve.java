package dev.matrixpolicy.gateway.api;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.apache.coyote.http11.Http11InputBuffer;
import org.apache.tomcat.util.res.StringManager;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's error report as Matrix error JSON instead of an HTML page that names the server and its
 * version. It answers what Tomcat refuses before any application code runs (a malformed request line,
 * path or header, broken body framing, an unknown method, transfer coding or HTTP version) and any
 * error that no application code answered, with the status Tomcat chose.
 */
final class JsonErrorReportValve extends ErrorReportValve {
    /** What Tomcat's HTTP/1.1 reader says of a head past its buffer, in the locale it says it in. */
    private static final String HEAD_TOO_LARGE = StringManager.getManager(Http11InputBuffer.class)
            .getString("iib.requestheadertoolarge.error");

    private final JsonMapper json;

    JsonErrorReportValve(JsonMapper json) {
        this.json = json;
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        // Tomcat's own conditions: an error, reported once, nothing written yet, and a connection that can still carry it.
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean ioAllowed = new AtomicBoolean();
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        MatrixErrors.MatrixError error;
        if (request.getAttribute(BoundedHttpProtocol.BODY_CUT_FOR_ROOM) != null) {
            // the listener ended its body's reading for room, which Tomcat's reader took for broken framing
            error = MatrixErrors.describe(MatrixApiException.cutForRoom());
            response.setStatus(error.status().value());
        } else if (status == HttpServletResponse.SC_BAD_REQUEST && throwable instanceof IOException unread) {
            // Tomcat's reader failed on a body (a half-close before its end, broken chunks) and answered 400 for it
            error = MatrixErrors.describe(MatrixApiException.unreadBody(unread));
        } else if (status == HttpServletResponse.SC_BAD_REQUEST && headTooLarge(throwable)) {
            error = MatrixErrors.forStatus(request.getCoyoteRequest().requestURI().isNull() ? HttpStatus.URI_TOO_LONG.value()
                    : HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.value());
            response.setStatus(error.status().value());
        } else {
            error = MatrixErrors.forStatus(status);
        }
        String body = json.writeValueAsString(error.body());
        try {
            response.setContentType(MediaType.APPLICATION_JSON_VALUE);
            response.setCharacterEncoding(StandardCharsets.UTF_8);
            response.setContentLength(body.getBytes(StandardCharsets.UTF_8).length);
            PrintWriter writer = response.getReporter();
            if (writer != null) {
                writer.write(body);
            }
        } catch (IOException | IllegalStateException gone) {
            // The client is gone or the response was taken over: there is no one left to tell.
        }
    }

    /**
     * Whether Tomcat refused the request because its head outgrew {@code server.max-http-request-header-size}:
     * it says so with a 400 and an exception of its own message, where HTTP has statuses that tell the
     * caller what to shorten, 414 for a request line (RFC 9110) and 431 for headers (RFC 6585).
     */
    private static boolean headTooLarge(Throwable throwable) {
        return throwable instanceof IllegalArgumentException && HEAD_TOO_LARGE.equals(throwable.getMessage());
    }
}
