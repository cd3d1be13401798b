package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A server written by hand on a raw socket, for the answers no real server gives: a body that never
 * ends, one cut short, bytes that break HTTP.
 */
public final class HandWrittenServer {
    private HandWrittenServer() {
    }

    /** What the server does with one connection. */
    @FunctionalInterface
    public interface Exchange {
        void answer(Socket socket) throws IOException, InterruptedException;
    }

    /**
     * Answers each connection to {@code listener} on a virtual thread of its own, then closes it,
     * until the listener closes. An exchange the client broke off just ends.
     */
    public static void answerEach(ServerSocket listener, Exchange exchange) {
        Thread.ofVirtual().start(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket socket = listener.accept();
                    Thread.ofVirtual().start(() -> {
                        try (socket) {
                            exchange.answer(socket);
                        } catch (IOException | InterruptedException brokenOff) {
                            // the client gave up on the exchange, or the test ended
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    /** The request's line and headers, read up to the blank line that ends them. */
    public static String requestHead(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        for (int b; matched < end.length && (b = in.read()) >= 0; ) {
            head.append((char) b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString();
    }
}
