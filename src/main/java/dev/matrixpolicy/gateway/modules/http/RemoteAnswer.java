package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendReply;
import java.io.IOException;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Reads the remote service's answer by the gateway's own REST contract: a 2xx
 * {@code {"result": ...}} read by the callback's result type, or a non-2xx Matrix error
 * ({@code {"errcode": ..., "error": ...}}), which is a {@link Rejection} for the result types that
 * have one. An empty 2xx body, or one without {@code result}, reads as {@code null}.
 */
final class RemoteAnswer {

    private RemoteAnswer() {
    }

    /** @throws BackendFailure when the answer is not one the contract allows for this result type */
    static <R> R read(ResultType<R> type, BackendReply reply) throws IOException {
        if (reply.isSuccessful()) {
            JsonNode envelope = reply.json();
            if (envelope.isObject()) {
                return result(type, envelope.get("result"));
            }
            if (envelope.isNull() || envelope.isMissingNode()) {
                return result(type, null);
            }
            throw BackendFailure.unusable("expected {\"result\": ...}, got " + envelope.getNodeType());
        }
        return rejection(type, reply).orElseThrow(() -> BackendFailure.status(reply.status()));
    }

    private static <R> R result(ResultType<R> type, JsonNode result) {
        try {
            return type.fromJson(result);
        } catch (IllegalArgumentException wrongShape) {
            throw BackendFailure.unusable(wrongShape.getMessage());
        }
    }

    private static <R> Optional<R> rejection(ResultType<R> type, BackendReply reply) throws IOException {
        try {
            R answer = type.fromJson(reply.json());
            return answer instanceof Rejection ? Optional.of(answer) : Optional.empty();
        } catch (BackendFailure | IllegalArgumentException notARejection) {
            // not Matrix error JSON (or too long to read), or a result type without rejections: the status is the failure
            return Optional.empty();
        }
    }
}
