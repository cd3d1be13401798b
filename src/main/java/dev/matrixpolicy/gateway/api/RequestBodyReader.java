package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
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
        long declared = request.getContentLengthLong();
        if (declared > limit) {
            throw MatrixApiException.tooLarge(limit);
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = declared >= 0 ? readExactly(in, (int) declared) : in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
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

    /** A body of declared length, read into one array of that length (a shorter body is cut off, and fails to parse). */
    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] body = new byte[length];
        int read = in.readNBytes(body, 0, length);
        return read == length ? body : Arrays.copyOf(body, read);
    }
}
