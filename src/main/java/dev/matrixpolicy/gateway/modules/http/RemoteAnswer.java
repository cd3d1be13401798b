package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendReply;
import java.io.IOException;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Reads the remote service's answer by the gateway's own REST contract: a 2xx
 * {@code {"result": ...}} read by the callback's result type, or a 403 Matrix error
 * ({@code {"errcode": ..., "error": ...}}), which is a {@link Rejection} for the result types that
 * have one. An empty 2xx body, or one without {@code result}, reads as {@code null}.
 *
 * <p>A refusal is passed on as a user may be shown it ({@link Rejection#fromOutside}). Any other
 * result holding half a character (a lone surrogate, from a JSON escape) is unusable: the homeserver
 * could neither store nor send it.
 *
 * <p>Only 403 refuses, because it is the one status the gateway refuses with. Any other status is
 * a failure of the service, whatever its body: a gateway behind this one answers 503
 * {@code M_UNKNOWN} when it fails closed, 413 {@code M_TOO_LARGE} for a body over its cap, and
 * proxies answer 429 or 5xx with Matrix JSON too; none of them is a policy's verdict, so each is
 * retried, counted and answered by the failure mode like any other failure.
 */
final class RemoteAnswer {
    /** The status of a refusal: what the gateway's own API answers a rejection with. */
    private static final int REFUSAL = 403;

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
        Optional<R> rejection = reply.status() == REFUSAL ? rejection(type, reply) : Optional.empty();
        return rejection.orElseThrow(() -> BackendFailure.status(reply.status()));
    }

    private static <R> R result(ResultType<R> type, JsonNode result) {
        R answer;
        try {
            answer = type.fromJson(result);
        } catch (IllegalArgumentException wrongShape) {
            throw BackendFailure.unusable(wrongShape.getMessage());
        }
        if (!(answer instanceof Rejection) && result != null && !EventJson.hasUtf8Form(result)) {
            // a name, a room's settings, an event: what the homeserver would fail to store or send (a
            // refusal's text is made fit to show instead, below)
            throw BackendFailure.unusable("a string in the result holds half a character (a lone surrogate), which has no UTF-8 form");
        }
        return fromOutside(answer);
    }

    private static <R> Optional<R> rejection(ResultType<R> type, BackendReply reply) throws IOException {
        try {
            R answer = type.fromJson(reply.json());
            return answer instanceof Rejection ? Optional.of(fromOutside(answer)) : Optional.empty();
        } catch (BackendFailure | IllegalArgumentException notARejection) {
            // not Matrix error JSON (or too long to read), or a result type without rejections: the status is the failure
            return Optional.empty();
        }
    }

    /**
     * A refusal as the homeserver may pass it on ({@link Rejection#fromOutside}): a service that answers
     * {@code M_UNKNOWN_TOKEN} would log the user out, one that answers a megabyte of text would show it.
     */
    @SuppressWarnings("unchecked") // a Rejection is each result type's own rejection
    private static <R> R fromOutside(R answer) {
        return answer instanceof Rejection rejection ? (R) rejection.fromOutside() : answer;
    }
}
