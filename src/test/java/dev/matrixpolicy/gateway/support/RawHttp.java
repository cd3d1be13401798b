package dev.matrixpolicy.gateway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;

/**
 * HTTP/1.1 written byte for byte to a socket, so that Tomcat's own request parser sees exactly
 * what a hostile or broken client sends: bad framing, bad paths, unknown methods and versions.
 * Every request asks for {@code Connection: close}, or is one the server must close on.
 */
public final class RawHttp {
    private RawHttp() {
    }

    /** The status of an HTTP/0.9 answer, which has neither status line nor headers. */
    public static final int HTTP_0_9 = 0;

    /** The answer as it came off the wire: the status, the headers (names in lower case) and the decoded body. */
    public record Response(int status, Map<String, String> headers, String body) {
        public Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
        }

        public JsonNode json() {
            return GatewayClient.json(body);
        }
    }

    public static Response exchange(int port, String request) {
        return exchange(InetAddress.getLoopbackAddress(), port, request);
    }

    public static Response exchange(InetAddress address, int port, String request) {
        try (Socket socket = new Socket(address, port)) {
            socket.setSoTimeout(20_000);
            try {
                socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
            } catch (SocketException closedEarly) {
                // The server may answer and close before reading a huge request: the answer is still there to read.
            }
            return parse(readUntilClosed(socket.getInputStream()));
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    /**
     * What a client that goes on sending its body a byte at a time saw: the bytes of the answer, and
     * how long after the answer began the server closed the connection, if it did within the time given.
     */
    public record Dripped(String answer, Optional<Duration> closedAfterAnswer) {
    }

    /**
     * Sends {@code head} (a request head and the start of its body), then a space every {@code every}
     * while nothing comes back, as a slowloris client drips its body, reading whatever the server
     * answers, until the server closes the connection or {@code giveUp} has passed.
     */
    public static Dripped dripping(int port, String head, Duration every, Duration giveUp) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout((int) every.toMillis());
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            StringBuilder answer = new StringBuilder();
            long answeredAt = 0;
            long giveUpAt = System.nanoTime() + giveUp.toNanos();
            while (System.nanoTime() < giveUpAt) {
                try {
                    int read = in.read();
                    if (read < 0) {
                        break;
                    }
                    answer.append((char) read);
                    answeredAt = answeredAt == 0 ? System.nanoTime() : answeredAt;
                    continue;
                } catch (SocketTimeoutException nothingYet) {
                    try {
                        out.write(' ');
                        continue;
                    } catch (IOException gone) {
                        // closed by the server
                    }
                } catch (IOException reset) {
                    // closed by the server
                }
                break;
            }
            Optional<Duration> closed = System.nanoTime() < giveUpAt && answeredAt != 0
                    ? Optional.of(Duration.ofNanos(System.nanoTime() - answeredAt)) : Optional.empty();
            return new Dripped(answer.toString(), closed);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    /**
     * Sends {@code request} as it is and half-closes the connection, so the server sees the end of
     * whatever was sent (a body cut short, headers never finished) at once rather than after its
     * idle timeout. Returns every final answer in the order they came (bytes left over after one
     * request are read as the next), skipping interim 1xx answers; none when the server closed
     * without a word, as it may for a request whose head never ended, or reset the connection.
     * Framing is read as the server declares it: Content-Length, chunked, or to the end. A
     * {@code head} request's first answer has no body.
     */
    public static List<Response> send(int port, byte[] request, boolean head) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
                socket.shutdownOutput();
            } catch (SocketException closedEarly) {
                // Answered and closed before reading all of it: the answer may still be there to read.
            }
            byte[] received;
            try {
                received = readUntilClosed(socket.getInputStream());
            } catch (SocketException reset) {
                return List.of();
            }
            return answers(new String(received, StandardCharsets.ISO_8859_1), head);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    private static List<Response> answers(String text, boolean head) {
        List<Response> answers = new ArrayList<>();
        int at = 0;
        boolean noBody = head;
        while (at < text.length()) {
            if (!text.startsWith("HTTP/", at)) {
                // HTTP/0.9's answer to a request line without a version: the body alone, to the end, since the
                // server closes after it. Such a request line may follow an answer too: the bytes left over
                // after a request (a GET's unframed body) are read as the next request.
                answers.add(new Response(HTTP_0_9, Map.of(), new String(text.substring(at).getBytes(StandardCharsets.ISO_8859_1),
                        StandardCharsets.UTF_8)));
                break;
            }
            int end = text.indexOf("\r\n\r\n", at);
            if (end < 0) {
                throw new IllegalStateException("Incomplete HTTP answer at " + at + ": " + text);
            }
            String[] lines = text.substring(at, end).split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            Map<String, String> headers = headers(lines);
            at = end + 4;
            if (status < 200) {
                continue;
            }
            String body;
            // A HEAD answer has no body, unless the server could not tell it was HEAD (a request line it refused).
            if (noBody && (at == text.length() || text.startsWith("HTTP/", at)) || status == 204 || status == 304) {
                body = "";
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                int last = text.indexOf("\r\n0\r\n\r\n", at - 2);
                int stop = last < 0 ? text.length() : last + 7;
                body = dechunk(text.substring(at, stop));
                at = stop;
            } else if (headers.containsKey("content-length")) {
                int stop = Math.min(text.length(), at + Integer.parseInt(headers.get("content-length")));
                body = text.substring(at, stop);
                at = stop;
            } else {
                body = text.substring(at);
                at = text.length();
            }
            noBody = false;
            answers.add(new Response(status, headers, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8)));
        }
        return answers;
    }

    private static Map<String, String> headers(String[] lines) {
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
                    (first, second) -> first + ", " + second);
        }
        return headers;
    }

    /** Writes {@code text}, a request or a part of one, to {@code socket} as ISO-8859-1, and flushes it. */
    public static void write(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** The next answer on {@code socket}, kept open: its head, and a body framed by {@code Content-Length}. */
    public static Response next(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IllegalStateException("Closed before an answer's head ended: " + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
        }
        Response answer = parse(head.toByteArray());
        int length = answer.header("Content-Length").map(Integer::parseInt)
                .orElseThrow(() -> new IllegalStateException("No Content-Length: " + answer));
        return parse((head.toString(StandardCharsets.ISO_8859_1) + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1))
                .getBytes(StandardCharsets.ISO_8859_1));
    }

    /** What the server sends on {@code socket} before it closes it; nothing if it resets it. */
    public static byte[] untilClosed(Socket socket) throws IOException {
        try {
            return socket.getInputStream().readAllBytes();
        } catch (SocketException reset) {
            return new byte[0];
        }
    }

    private static byte[] readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.write(buffer, 0, n);
            }
        } catch (SocketException reset) {
            // A reset after the answer, when the server closed with unread request bytes: keep what arrived.
            if (received.size() == 0) {
                throw reset;
            }
        }
        return received.toByteArray();
    }

    /** One answer: its head up to the blank line, and the body that follows (none, to parse a head alone). */
    public static Response parse(byte[] raw) {
        List<Response> answers = answers(new String(raw, StandardCharsets.ISO_8859_1), false);
        if (answers.isEmpty()) {
            throw new IllegalStateException("No HTTP answer");
        }
        return answers.getFirst();
    }

    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, lineEnd).split(";")[0].trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
