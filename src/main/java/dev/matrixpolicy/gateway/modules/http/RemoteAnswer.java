package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.NullNode;

/**
 * Reads the remote service's answer by the gateway's own REST contract: a 2xx
 * {@code {"result": ...}} read by the callback's result type, or a non-2xx Matrix error
 * ({@code {"errcode": ..., "error": ...}}), which is a {@link Rejection} for the result types that
 * have one. An empty 2xx body, or one without {@code result}, reads as {@code null}.
 */
final class RemoteAnswer {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private RemoteAnswer() {
    }

    /** @throws BackendFailure when the answer is not one the contract allows for this result type */
    static <R> R read(ResultType<R> type, int status, byte[] body) {
        if (status >= 200 && status < 300) {
            JsonNode envelope = parse(body);
            if (!envelope.isNull() && !envelope.isObject()) {
                throw BackendFailure.unusable("expected {\"result\": ...}, got " + envelope.getNodeType(), null);
            }
            try {
                return type.fromJson(envelope.get("result"));
            } catch (IllegalArgumentException wrongShape) {
                throw BackendFailure.unusable(wrongShape.getMessage(), wrongShape);
            }
        }
        return rejection(type, body).orElseThrow(() -> BackendFailure.status(status));
    }

    private static <R> Optional<R> rejection(ResultType<R> type, byte[] body) {
        try {
            R answer = type.fromJson(parse(body));
            return answer instanceof Rejection ? Optional.of(answer) : Optional.empty();
        } catch (BackendFailure | IllegalArgumentException notARejection) {
            // not Matrix error JSON, or a result type without rejections: the error status is a failure
            return Optional.empty();
        }
    }

    private static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            return NullNode.getInstance();
        }
        try {
            return JSON.readTree(body);
        } catch (JacksonException notJson) {
            throw BackendFailure.unusable("not JSON (" + notJson.getOriginalMessage() + ")", notJson);
        }
    }
}
