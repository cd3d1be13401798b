package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.replies.ReplyCap;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The client-server API calls of a policy room source, against a homeserver that misbehaves on the wire. */
class ClientServerApiTest {

    @Test
    void anAnswerThatTricklesInJustWithinEachStallEndsAtItsDeadline() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> trickle(listener));
            ClientServerApi api = new ClientServerApi(URI.create("http://127.0.0.1:" + listener.getLocalPort()), "token",
                    Duration.ofMillis(400), new ReplyCap("max-size", 1 << 20), Duration.ofMillis(600));
            long started = System.nanoTime();

            assertThatThrownBy(api::whoami)
                    .isInstanceOf(HomeserverFailure.class)
                    .hasMessage("the homeserver's answer to GET /account/whoami took longer than 1s");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            server.interrupt();
        }
    }

    /** Answers with headers at once, then one byte of its body every 100 ms, for ever. */
    private static void trickle(ServerSocket listener) {
        try (Socket socket = listener.accept()) {
            InputStream in = socket.getInputStream();
            byte[] head = new byte[4096];
            in.read(head);
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(100);
                out.write(' ');
                out.flush();
            }
        } catch (IOException | InterruptedException ended) {
            // the client gave up, or the test ended
        }
    }
}
