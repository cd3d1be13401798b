package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import jakarta.servlet.http.HttpServletRequest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.JacksonIOException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Parses a request body, straight from the connection, into a JSON object, with a size cap that
 * holds for chunked bodies too. Anything else is the caller's mistake and gets a Matrix error.
 * The body is never copied into an array of its own: the parser reads the stream through its
 * pooled buffers.
 */
@Component
final class RequestBodyReader {
    private final JsonMapper json;
    private final long limit;

    RequestBodyReader(JsonMapper json, PolicyGatewayProperties properties) {
        this.json = json;
        this.limit = properties.maxBodySize().toBytes();
    }

    ObjectNode readObject(HttpServletRequest request) {
        long declared = request.getContentLengthLong();
        if (declared > limit) {
            throw MatrixApiException.tooLarge(limit);
        }
        JsonNode parsed;
        // A declared length is enforced by the container; a chunked body is counted here.
        try (InputStream body = declared >= 0 ? request.getInputStream() : new Capped(request.getInputStream(), limit)) {
            parsed = json.readTree(body);
        } catch (JacksonIOException | IOException unreadable) {
            // A body cut short of its declared length, or a broken chunked encoding. A client that is
            // gone never reads the answer; one that half-closed gets JSON, not the container's page.
            throw MatrixApiException.notJson("Content not JSON: the body ended early or could not be read");
        } catch (JacksonException malformed) {
            throw MatrixApiException.notJson("Content not JSON: " + malformed.getOriginalMessage());
        }
        if (!(parsed instanceof ObjectNode object)) {
            throw MatrixApiException.notJson("Content not JSON object");
        }
        return object;
    }

    /** Fails with 413 as soon as more than {@code limit} bytes have been read. */
    private static final class Capped extends FilterInputStream {
        private final long limit;
        private long count;

        Capped(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(int n) {
            count += n;
            if (count > limit) {
                throw MatrixApiException.tooLarge(limit);
            }
        }
    }
}
