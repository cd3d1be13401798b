package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import dev.matrixpolicy.gateway.matrix.ErrorBody;
import dev.matrixpolicy.gateway.policyserver.BadJsonException;
import dev.matrixpolicy.gateway.policyserver.KeyFetchBusyException;
import dev.matrixpolicy.gateway.policyserver.UnauthorizedException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.core.MethodParameter;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.json.JacksonJsonHttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import org.springframework.web.util.DisconnectedClientHelper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place where errors become Matrix error JSON, {@code {"errcode": ..., "error": ...}}.
 * A caller's mistake is a 4xx with a message that says what to fix; nothing ever carries a stack trace.
 * {@link #describe} and {@link MatrixError#answer} serve the servlets and filters; the handlers serve
 * Spring MVC (module endpoints such as {@code is_evil}, unknown paths, the actuator on the management
 * port); {@link #forStatus} serves {@link JsonErrorReportValve}, for what Tomcat refuses before any of these runs.
 */
@RestControllerAdvice
final class MatrixErrors implements ResponseBodyAdvice<Object> {
    private static final Logger log = LoggerFactory.getLogger(MatrixErrors.class);

    /**
     * A Matrix error answer: status, errcode, a message for a human, for a 405 the {@code Allow}
     * header, and for a 429 {@code retry_after_ms} with its {@code Retry-After} header (the policy
     * server's rate limit, answered by {@link #answer} only: no Spring MVC route limits). {@link #answer} is the one writer of error answers for the servlets and filters that
     * answer without Spring MVC; {@link #toResponse} hands the same answer to Spring MVC.
     */
    record MatrixError(HttpStatus status, String errcode, String message, Optional<String> allow, Optional<Duration> retryAfter) {
        MatrixError(HttpStatus status, String errcode, String message) {
            this(status, errcode, message, Optional.empty(), Optional.empty());
        }

        Map<String, String> body() {
            return ErrorBody.of(errcode, message);
        }

        /**
         * Answers with this error: its headers, status, {@code application/json} and the body with its
         * length, so a keep-alive connection carries no chunked encoding. The policy API's error path:
         * one small map written by the shared mapper, nothing built per call beyond that.
         */
        void answer(HttpServletResponse response, JsonMapper json) throws IOException {
            byte[] answer = json.writeValueAsBytes(retryAfter.isPresent() ? withRetryAfter(retryAfter.get()) : body());
            if (allow.isPresent()) { // no lambda: the policy API's error path allocates nothing it need not
                response.setHeader(HttpHeaders.ALLOW, allow.get());
            }
            if (retryAfter.isPresent()) { // RFC 9110's whole seconds, rounded up, beside the spec's milliseconds
                response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(Math.ceilDiv(retryAfter.get().toMillis(), 1000)));
            }
            response.setStatus(status.value());
            response.setContentType(MediaType.APPLICATION_JSON_VALUE);
            response.setContentLength(answer.length);
            response.getOutputStream().write(answer);
        }

        /** The body with the spec's {@code retry_after_ms}, a number where the other fields are strings. */
        private Map<String, Object> withRetryAfter(Duration wait) {
            Map<String, Object> body = new LinkedHashMap<>(body());
            body.put("retry_after_ms", wait.toMillis());
            return body;
        }
    }

    /**
     * The answer to an exception raised while answering a request. A module that failed closed fails
     * the operation, as when a Synapse module raises; synapse-http-antispam reads that 503 as a
     * rejection with M_UNKNOWN, and the end user sees no module name. Anything unexpected is our own
     * bug, never the caller's: logged in full here, answered without detail.
     */
    static MatrixError describe(Exception failure) {
        return switch (failure) {
            case MatrixApiException refused -> new MatrixError(refused.status(), refused.errcode(), refused.getMessage(), refused.allow(),
                    refused.retryAfter());
            case BadArgumentException bad -> new MatrixError(HttpStatus.BAD_REQUEST,
                    bad.kind() == BadArgumentException.Kind.MISSING ? "M_MISSING_PARAM" : "M_INVALID_PARAM", bad.getMessage());
            case UnauthorizedException unauthorized -> new MatrixError(HttpStatus.UNAUTHORIZED, "M_UNAUTHORIZED",
                    unauthorized.getMessage());
            case BadJsonException badJson -> new MatrixError(HttpStatus.BAD_REQUEST, "M_BAD_JSON", badJson.getMessage());
            case KeyFetchBusyException busy -> new MatrixError(HttpStatus.SERVICE_UNAVAILABLE, "M_UNKNOWN", busy.getMessage());
            case ModuleFailedException failed -> new MatrixError(HttpStatus.SERVICE_UNAVAILABLE, "M_UNKNOWN",
                    "A policy check failed; the request was refused");
            case InvalidParameterException malformed -> malformedParameters(malformed);
            case HttpMessageNotReadableException unreadable -> describe(RequestBodyReader.unreadable(unreadable.getMostSpecificCause()));
            case ErrorResponse rejected when rejected.getStatusCode().is4xxClientError() -> rejectedByFramework(rejected);
            default -> {
                log.error("Unexpected error while answering a request", failure);
                yield forStatus(HttpStatus.INTERNAL_SERVER_ERROR.value());
            }
        };
    }

    /**
     * Tomcat parses the query string (or a form body) when a handler first asks for a parameter, and
     * refuses one it cannot decode or that has too many parameters: the caller's mistake, said in the
     * caller's terms. Its own message quotes the raw input and points to debug logging.
     */
    private static MatrixError malformedParameters(InvalidParameterException malformed) {
        MatrixError byStatus = forStatus(malformed.getErrorCode());
        if (byStatus.status() != HttpStatus.BAD_REQUEST) {
            return byStatus;
        }
        return new MatrixError(HttpStatus.BAD_REQUEST, "M_INVALID_PARAM", malformed.getCause() instanceof IOException
                ? "Malformed query string: each '%' must be followed by two hex digits, and the decoded bytes must be UTF-8"
                : "Malformed query string: expected name=value pairs joined by '&', and not too many of them");
    }

    /**
     * Spring's own refusals of a request (a missing or unconvertible parameter, an actuator endpoint's
     * invalid input) carry their status and a reason meant for the caller.
     */
    private static MatrixError rejectedByFramework(ErrorResponse rejected) {
        MatrixError byStatus = forStatus(rejected.getStatusCode().value());
        String reason = rejected.getBody().getDetail();
        if (reason == null || reason.isBlank()) {
            return byStatus;
        }
        // a 400 that gives its reason is about a parameter or input the endpoint read, not the request's framing
        String errcode = byStatus.status() != HttpStatus.BAD_REQUEST ? byStatus.errcode()
                : rejected instanceof MissingServletRequestParameterException ? "M_MISSING_PARAM" : "M_INVALID_PARAM";
        return new MatrixError(byStatus.status(), errcode, reason);
    }

    /**
     * The answer to an error known only by its status, as the container reports it: a request Tomcat
     * refused before any application code ran, or one no handler answered. The status stays as HTTP
     * prescribes it (501 for an unknown method or transfer coding, 505 for an unknown version).
     */
    static MatrixError forStatus(int code) {
        HttpStatus status = HttpStatus.resolve(code);
        if (status == null) {
            status = code >= 500 ? HttpStatus.INTERNAL_SERVER_ERROR : HttpStatus.BAD_REQUEST;
        }
        return switch (status) {
            case BAD_REQUEST -> new MatrixError(status, "M_UNKNOWN",
                    "Malformed HTTP request: the request line, a header or the body's framing is invalid");
            case NOT_FOUND -> new MatrixError(status, "M_UNRECOGNIZED", "Unrecognized request");
            case METHOD_NOT_ALLOWED -> new MatrixError(status, "M_UNRECOGNIZED", "Method not allowed here");
            case CONTENT_TOO_LARGE -> new MatrixError(status, "M_TOO_LARGE", "Request too large");
            case URI_TOO_LONG -> new MatrixError(status, "M_TOO_LARGE", "Request line too long");
            case REQUEST_HEADER_FIELDS_TOO_LARGE -> new MatrixError(status, "M_TOO_LARGE", "Request headers too large");
            case EXPECTATION_FAILED -> new MatrixError(status, "M_UNKNOWN", "Unsupported Expect header: only 100-continue is understood");
            case NOT_IMPLEMENTED -> new MatrixError(status, "M_UNRECOGNIZED", "Unsupported method or transfer coding");
            case HTTP_VERSION_NOT_SUPPORTED -> new MatrixError(status, "M_UNRECOGNIZED", "Unsupported HTTP version: use HTTP/1.1");
            case INTERNAL_SERVER_ERROR -> new MatrixError(status, "M_UNKNOWN", "Internal server error");
            default -> new MatrixError(status, "M_UNKNOWN", status.getReasonPhrase());
        };
    }

    static ResponseEntity<Map<String, String>> error(HttpStatus status, String errcode, String message) {
        return toResponse(new MatrixError(status, errcode, message));
    }

    static ResponseEntity<Map<String, String>> toResponse(MatrixError error) {
        ResponseEntity.BodyBuilder answer = ResponseEntity.status(error.status()).contentType(MediaType.APPLICATION_JSON);
        error.allow().ifPresent(methods -> answer.header(HttpHeaders.ALLOW, methods));
        return answer.body(error.body());
    }

    /** 405, with the {@code Allow} header RFC 9110 asks for, as the servlet routes send it. */
    @ExceptionHandler
    ResponseEntity<Map<String, String>> wrongMethod(HttpRequestMethodNotSupportedException wrong) {
        Set<HttpMethod> allowed = wrong.getSupportedHttpMethods();
        String allow = allowed == null || allowed.isEmpty() ? null // Spring's HEAD and OPTIONS are answered but never listed
                : AllowedMethods.of(allowed.stream().map(HttpMethod::name).toList());
        return toResponse(describe(MatrixApiException.methodNotAllowed(wrong.getMethod(), allow)));
    }

    @ExceptionHandler({NoHandlerFoundException.class, NoResourceFoundException.class})
    ResponseEntity<Map<String, String>> notFound(Exception notFound) {
        return error(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", "Unrecognized request");
    }

    /** A body of a type the endpoint does not read (a form, as {@code curl -d} sends one): 415, naming what it reads. */
    @ExceptionHandler
    ResponseEntity<Map<String, String>> bodyType(HttpMediaTypeNotSupportedException wrong) {
        String given = wrong.getContentType() == null ? "that type" : "type " + wrong.getContentType(); // null: a header Spring could not parse
        return error(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "M_NOT_JSON", "A body of " + given
                + " is not read here: send " + types(wrong.getSupportedMediaTypes()) + ", or no body where none is needed");
    }

    /** An {@code Accept} the endpoint cannot answer: 406, naming what it answers. */
    @ExceptionHandler
    ResponseEntity<Map<String, String>> answerType(HttpMediaTypeNotAcceptableException wrong) {
        return error(HttpStatus.NOT_ACCEPTABLE, "M_UNKNOWN", "This endpoint answers " + types(wrong.getSupportedMediaTypes()));
    }

    private static String types(List<MediaType> types) {
        return types.isEmpty() ? "application/json" : types.stream().map(MediaType::toString).distinct().collect(Collectors.joining(" or "));
    }

    /**
     * A client that went away while its answer was written (a {@code curl | head}, a scraper that
     * timed out) is nobody's error: a DEBUG line, and no answer, since nobody reads it.
     */
    @ExceptionHandler
    ResponseEntity<Map<String, String>> failed(Exception failure) {
        if (DisconnectedClientHelper.isClientDisconnectedException(failure)) {
            log.debug("The client went away before its answer was written: {}", failure.toString());
            return null;
        }
        return toResponse(describe(failure));
    }

    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return JacksonJsonHttpMessageConverter.class.isAssignableFrom(converterType);
    }

    /**
     * An error answer that a handler left without a body, as the actuator does for an unknown
     * metric (404), gets the error for its status, as every other error answer does. The actuator
     * answers such a null result 404 to a GET only, and 204 to any other method, HEAD included: a
     * HEAD is answered what its GET is.
     */
    @Override
    public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
                                  Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
                                  ServerHttpResponse response) {
        if (body != null || !(response instanceof ServletServerHttpResponse servlet)) {
            return body;
        }
        HttpServletResponse answer = servlet.getServletResponse();
        if (answer.getStatus() == HttpStatus.NO_CONTENT.value() && HttpMethod.HEAD.equals(request.getMethod())) {
            answer.setStatus(HttpStatus.NOT_FOUND.value());
        }
        if (answer.getStatus() < 400) {
            return body;
        }
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        return forStatus(answer.getStatus()).body();
    }
}
