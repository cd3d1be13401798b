package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a request body once, with a size cap that holds for chunked bodies too, and parses it into a
 * JSON object. Anything else is the caller's mistake and gets a Matrix error.
 */
@Component
final class RequestBodyReader {
    private final JsonMapper json;
    private final long limit;

    RequestBodyReader(JsonMapper json, PolicyGatewayProperties properties) {
        this.json = json;
        this.limit = properties.maxBodySize().toBytes();
    }

    ObjectNode readObject(HttpServletRequest request) throws IOException {
        if (request.getContentLengthLong() > limit) {
            throw MatrixApiException.tooLarge(limit);
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        }
        if (body.length > limit) {
            throw MatrixApiException.tooLarge(limit);
        }
        JsonNode parsed;
        try {
            parsed = json.readTree(body);
        } catch (JacksonException malformed) {
            throw MatrixApiException.notJson("Content not JSON: " + malformed.getOriginalMessage());
        }
        if (!(parsed instanceof ObjectNode object)) {
            throw MatrixApiException.notJson("Content not JSON object");
        }
        return object;
    }
}
