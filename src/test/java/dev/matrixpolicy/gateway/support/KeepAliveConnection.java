package dev.matrixpolicy.gateway.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One HTTP/1.1 keep-alive connection on a raw socket, used the way a homeserver's connection pool
 * uses one: before each request it checks whether the server has closed the connection (then the
 * client opens another, and nothing is lost), and after sending it tells a complete answer from a
 * request the server never answered (which Synapse, not retrying a POST, turns into a failed
 * action). Answers must carry a Content-Length, as every answer of the policy API does; their
 * heads are parsed by {@link RawHttp}, the one-request-per-connection counterpart.
 */
public final class KeepAliveConnection implements AutoCloseable {
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(20);
    /** CR LF CR LF, the blank line that ends an answer's head. */
    private static final int END_OF_HEAD = 0x0d0a0d0a;

    /** What became of one request. */
    public sealed interface Exchange {
        /** A complete answer; {@code closes} when it carries {@code Connection: close}. */
        record Answered(int status, boolean closes) implements Exchange {
        }

        /** The server had closed the connection before the request was sent. */
        record ClosedBeforeSending() implements Exchange {
        }

        /** The request was sent and no complete answer came back. */
        record Unanswered(String what) implements Exchange {
        }
    }

    private final Socket socket;
    private final InputStream in;

    private KeepAliveConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
    }

    public static KeepAliveConnection open(int port) {
        try {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setTcpNoDelay(true);
            return new KeepAliveConnection(socket);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    /** A POST of a JSON body with a bearer token, as the homeserver sends a callback. */
    public static byte[] post(String path, String token, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
        request.writeBytes(body);
        return request.toByteArray();
    }

    /** Sends {@code request} unless the server closed the connection already, and reads the answer. */
    public Exchange exchange(byte[] request) {
        try {
            if (closedByServer(Duration.ofMillis(1))) {
                return new Exchange.ClosedBeforeSending();
            }
        } catch (IOException reset) {
            return new Exchange.ClosedBeforeSending();
        }
        try {
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
        } catch (IOException failed) {
            return new Exchange.Unanswered("sending failed: " + failed);
        }
        try {
            socket.setSoTimeout((int) ANSWER_TIMEOUT.toMillis());
            return readAnswer();
        } catch (SocketTimeoutException silent) {
            return new Exchange.Unanswered("no answer within " + ANSWER_TIMEOUT.toSeconds() + " s");
        } catch (IOException failed) {
            return new Exchange.Unanswered("reading the answer failed: " + failed);
        }
    }

    /** True once the server closed its end (or reset the connection) within {@code timeout}. */
    public boolean awaitClosedByServer(Duration timeout) {
        try {
            return closedByServer(timeout);
        } catch (IOException reset) {
            return true;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a socket the server may have reset
        }
    }

    /** Reads with a timeout: end of stream means closed; a timeout, still open. No byte may arrive unasked. */
    private boolean closedByServer(Duration timeout) throws IOException {
        socket.setSoTimeout(Math.max(1, (int) timeout.toMillis()));
        try {
            int read = in.read();
            if (read >= 0) {
                throw new IllegalStateException("the server sent a byte nobody asked for: " + read);
            }
            return true;
        } catch (SocketTimeoutException open) {
            return false;
        }
    }

    private Exchange readAnswer() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int lastFour = 0;
        while (lastFour != END_OF_HEAD) {
            int read = in.read();
            if (read < 0) {
                return new Exchange.Unanswered("the connection closed after " + head.size() + " bytes of the answer");
            }
            head.write(read);
            lastFour = lastFour << 8 | read;
        }
        RawHttp.Response answer = RawHttp.parse(head.toByteArray());
        long length = answer.header("content-length").map(Long::parseLong)
                .orElseThrow(() -> new IllegalStateException("an answer without Content-Length: " + answer));
        for (long remaining = length; remaining > 0; remaining--) {
            if (in.read() < 0) {
                return new Exchange.Unanswered("the connection closed inside the answer's body");
            }
        }
        boolean closes = answer.header("connection").filter(value -> value.toLowerCase(Locale.ROOT).contains("close")).isPresent();
        return new Exchange.Answered(answer.status(), closes);
    }
}
