package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.springframework.util.unit.DataSize;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads every request body the actuator's paths get, before anything else does: the actuator reads an
 * optional JSON body on every operation, GET included, into a map with no limit of its own, so a body
 * of gigabytes sent to {@code /actuator/health} would fill the heap the policy API serves from. None of
 * the actuator's operations takes a body (a reload's {@code {}} is passed over), so one over
 * {@value #MOST_BYTES} bytes gets 413 {@code M_TOO_LARGE}, unread; the paths that need no token are
 * open to anyone who reaches the port, and hundreds of clients each sending most of a large body and
 * then waiting would run the heap out. A body that is read is served from memory to whoever reads it
 * next.
 */
final class ManagementBodyCap extends OncePerRequestFilter {
    /** The most an actuator request's body may hold: {@code {}} and more, none of it used. */
    static final int MOST_BYTES = 4096;

    private final RequestBodyReader bodies;
    private final JsonMapper json;
    /** Explain's path: it reads its body itself, after the admin token, and answers a body as the policy API would. */
    private final String explain;

    ManagementBodyCap(JsonMapper json, String explain) {
        this.bodies = new RequestBodyReader(json, DataSize.ofBytes(MOST_BYTES), RequestBodyReader.Budget.ofHeap(32),
                RequestBodyReader.HalfPairNames.REFUSED); // never parses: the actuator reads the body
        this.json = json;
        this.explain = explain;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = PolicyApiServlet.routedPath(request);
        return path.equals(explain) || path.startsWith(explain + "/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() <= 0 && request.getHeader("Transfer-Encoding") == null) {
            chain.doFilter(request, response); // no body
            return;
        }
        byte[] body;
        try {
            body = bodies.read(request);
            RequestBodyReader.requireUtf8(body); // the actuator's parser would read overlong forms as what they mimic
        } catch (MatrixApiException refused) {
            MatrixErrors.describe(refused).answer(response, json);
            return;
        }
        chain.doFilter(new ReadBody(request, body), response);
    }

    /** A request whose body was read already: served from its bytes. */
    private static final class ReadBody extends HttpServletRequestWrapper {
        private final byte[] body;

        ReadBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream bytes = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return bytes.read();
                }

                @Override
                public int read(byte[] buffer, int offset, int length) {
                    return bytes.read(buffer, offset, length);
                }

                @Override
                public boolean isFinished() {
                    return bytes.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new IllegalStateException("the body was read already: no asynchronous reading");
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            Charset charset = getCharacterEncoding() == null ? StandardCharsets.UTF_8 : Charset.forName(getCharacterEncoding());
            return new BufferedReader(new InputStreamReader(getInputStream(), charset));
        }
    }
}
