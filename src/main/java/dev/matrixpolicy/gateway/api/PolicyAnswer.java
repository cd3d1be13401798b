package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the policy API answers the homeserver, written once for the API and for explain: a
 * {@link Rejection} is {@code 403 {"errcode": ..., "error": ...}}, exactly what synapse-http-antispam
 * reads as a spam-checker rejection; any other result is {@code 200 {"result": ...}}; a failure is the
 * Matrix error {@link MatrixErrors#describe} gives it.
 *
 * @param status the HTTP status
 * @param body   the JSON body
 */
record PolicyAnswer(int status, JsonNode body) {

    /** The status {@link #of(ResultType, Object)} answers {@code result} with, without building the answer. */
    static int status(Object result) {
        return result instanceof Rejection ? HttpServletResponse.SC_FORBIDDEN : HttpServletResponse.SC_OK;
    }

    static <R> PolicyAnswer of(ResultType<R> type, R result) {
        return of(type, result, false);
    }

    /**
     * @param compact whether the client asked for the result type's {@linkplain ResultType#compactForm compact form};
     *                a type without one answers its full form
     */
    static <R> PolicyAnswer of(ResultType<R> type, R result, boolean compact) {
        // no capturing lambdas: every answer not answered from the constants comes this way
        Optional<ResultType.CompactForm<R>> form = compact ? type.compactForm() : Optional.empty();
        JsonNode answer = form.isPresent() ? form.get().writer().apply(result) : type.toJson(result);
        if (result instanceof Rejection) {
            return new PolicyAnswer(status(result), answer);
        }
        ObjectNode envelope = JsonNodeFactory.instance.objectNode();
        envelope.set("result", answer);
        return new PolicyAnswer(HttpServletResponse.SC_OK, envelope);
    }

    static PolicyAnswer of(Exception failure) {
        MatrixErrors.MatrixError error = MatrixErrors.describe(failure);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        error.body().forEach(body::put);
        return new PolicyAnswer(error.status().value(), body);
    }
}
