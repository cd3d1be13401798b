package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.matrix.ErrorBody;
import java.util.Collection;
import java.util.Optional;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.util.MimeTypeUtils;

/**
 * The Matrix-style refusals of this package's actuator operations: the one rule for a repeated query
 * parameter, and the one wording of an invalid one.
 */
final class EndpointErrors {
    private EndpointErrors() {
    }

    static WebEndpointResponse<Object> error(String errcode, String message, int status) {
        return new WebEndpointResponse<>(ErrorBody.of(errcode, message), status, MimeTypeUtils.APPLICATION_JSON);
    }

    /**
     * The refusal of a query parameter given more than once, if it was. An operation's parameter typed
     * {@code Object} gets the actuator's list of its values then; typed {@code String}, the values
     * would come joined by commas, which can read as one valid value made of two.
     */
    static Optional<WebEndpointResponse<Object>> repeated(String name, Object value) {
        return value instanceof Collection<?>
                ? Optional.of(error("M_INVALID_PARAM", "The query parameter '" + name + "' is given more than once", 400))
                : Optional.empty();
    }

    /**
     * A query parameter refused, naming it and what it expects: thrown while an operation reads its
     * parameters, answered by {@link #response()}.
     */
    static final class InvalidParameter extends RuntimeException {
        private final String name;

        InvalidParameter(String name, String expected) {
            super(expected, null, false, false);
            this.name = name;
        }

        WebEndpointResponse<Object> response() {
            return error("M_INVALID_PARAM", "Invalid query parameter '" + name + "': " + getMessage(), 400);
        }
    }
}
