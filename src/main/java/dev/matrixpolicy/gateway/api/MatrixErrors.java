package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.HttpMediaTypeException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * The one place where errors become Matrix error JSON, {@code {"errcode": ..., "error": ...}}.
 * A caller's mistake is a 4xx with a message that says what to fix; nothing ever carries a stack trace.
 */
@RestControllerAdvice
final class MatrixErrors {
    private static final Logger log = LoggerFactory.getLogger(MatrixErrors.class);

    static ResponseEntity<Map<String, String>> error(HttpStatus status, String errcode, String message) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("errcode", errcode, "error", message));
    }

    @ExceptionHandler
    ResponseEntity<Map<String, String>> refused(MatrixApiException refused) {
        return error(refused.status(), refused.errcode(), refused.getMessage());
    }

    @ExceptionHandler
    ResponseEntity<Map<String, String>> badArgument(BadArgumentException bad) {
        return error(HttpStatus.BAD_REQUEST,
                bad.kind() == BadArgumentException.Kind.MISSING ? "M_MISSING_PARAM" : "M_INVALID_PARAM", bad.getMessage());
    }

    /**
     * A module failed and its link fails closed: the operation fails, as when a Synapse module raises.
     * synapse-http-antispam reads this as a rejection with M_UNKNOWN. The end user sees no module name.
     */
    @ExceptionHandler
    ResponseEntity<Map<String, String>> moduleFailed(ModuleFailedException failed) {
        return error(HttpStatus.SERVICE_UNAVAILABLE, "M_UNKNOWN", "A policy check failed; the request was refused");
    }

    @ExceptionHandler
    ResponseEntity<Map<String, String>> wrongMethod(HttpRequestMethodNotSupportedException wrong) {
        return error(HttpStatus.METHOD_NOT_ALLOWED, "M_UNRECOGNIZED", "Method " + wrong.getMethod() + " is not supported here");
    }

    @ExceptionHandler({NoHandlerFoundException.class, NoResourceFoundException.class})
    ResponseEntity<Map<String, String>> notFound(Exception notFound) {
        return error(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", "Unrecognized request");
    }

    @ExceptionHandler
    ResponseEntity<Map<String, String>> mediaType(HttpMediaTypeException wrong) {
        return error(HttpStatus.NOT_ACCEPTABLE, "M_UNKNOWN", "This API answers application/json only");
    }

    /** Our own bug, never the caller's: logged in full here, answered without detail. */
    @ExceptionHandler
    ResponseEntity<Map<String, String>> unexpected(Exception unexpected) {
        log.error("Unexpected error while answering a policy request", unexpected);
        return error(HttpStatus.INTERNAL_SERVER_ERROR, "M_UNKNOWN", "Internal server error");
    }
}
