package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.CallbackChains;
import dev.matrixpolicy.gateway.callbacks.CallbackEndpoint;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /v1/{category}/{callback}}: one endpoint per Synapse callback. The body's fields are
 * the callback's Python parameter names. The answer is {@code 200 {"result": ...}}, except a
 * {@link Rejection}, which is {@code 403 {"errcode": ..., "error": ...}}: exactly what
 * synapse-http-antispam reads as a spam-checker rejection.
 */
@RestController
final class CallbackController {
    private final CallbackChains chains;
    private final RequestBodyReader bodies;

    CallbackController(CallbackChains chains, RequestBodyReader bodies) {
        this.chains = chains;
        this.bodies = bodies;
    }

    @PostMapping(path = "/v1/{category}/{callback}", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JsonNode> call(@PathVariable String category, @PathVariable String callback,
                                  HttpServletRequest request) throws IOException {
        CallbackEndpoint<?, ?> endpoint = Category.fromWireName(category)
                .flatMap(known -> chains.endpoint(known, callback))
                .orElseThrow(() -> MatrixApiException.unrecognized("Unknown callback '" + category + "/" + callback + "'"));
        return answer(endpoint, bodies.readObject(request));
    }

    /** synapse-http-antispam's health check: echoes the id. */
    @PostMapping(path = "/v1/spam_checker/ping", produces = MediaType.APPLICATION_JSON_VALUE)
    ObjectNode ping(HttpServletRequest request) throws IOException {
        ObjectNode body = bodies.readObject(request);
        ObjectNode pong = JsonNodeFactory.instance.objectNode();
        pong.set("id", body.has("id") ? body.get("id") : JsonNodeFactory.instance.nullNode());
        pong.put("status", "ok");
        return pong;
    }

    private static <A, R> ResponseEntity<JsonNode> answer(CallbackEndpoint<A, R> endpoint, ObjectNode body) {
        A args = endpoint.read(JsonArgs.of(body));
        R result = endpoint.decide(args).result();
        JsonNode json = endpoint.resultType().toJson(result);
        if (result instanceof Rejection) {
            return ResponseEntity.status(HttpStatus.FORBIDDEN).body(json);
        }
        ObjectNode envelope = JsonNodeFactory.instance.objectNode();
        envelope.set("result", json);
        return ResponseEntity.ok(envelope);
    }
}
