package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.support.LoopbackTomcat;
import dev.matrixpolicy.gateway.support.RawHttp;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Counting only the requests that wait for the rest of their heads (the policy API's port and the
 * management port), two here: a third head dripped in closes the connection whose head has waited
 * longest, and a request whose head comes whole is answered however many drip theirs.
 */
class BoundedHttpProtocolTest {
    private static final String HEAD = "GET /x HTTP/1.1\r\nHost: localhost\r\n";

    @TempDir
    Path base;

    private final BoundedHttpProtocol protocol = new BoundedHttpProtocol();
    private final CountDownLatch answer = new CountDownLatch(1);
    private LoopbackTomcat tomcat;

    private int start() throws Exception {
        tomcat = LoopbackTomcat.start(base, new Connector(protocol), new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.getWriter().write("ok");
            }

            /** Reads the body whole, then answers once the test lets it: a request being answered. */
            @Override
            protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
                request.getInputStream().readAllBytes();
                try {
                    answer.await();
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                }
                response.getWriter().write("answered");
            }
        }, context -> { });
        return tomcat.port();
    }

    @AfterEach
    void stop() throws Exception {
        answer.countDown();
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void aThirdHeadAwaitedClosesTheConnectionWhoseHeadWaitedLongestAndWholeHeadsAreAnswered() throws Exception {
        protocol.limitHeadsAwaited(2);
        int port = start();
        try (Socket first = connect(port); Socket second = connect(port); Socket third = connect(port)) {
            RawHttp.write(first, HEAD);
            await().atMost(Duration.ofSeconds(10)).until(() -> protocol.requestsInProgress() == 1);
            RawHttp.write(second, HEAD);
            await().atMost(Duration.ofSeconds(10)).until(() -> protocol.requestsInProgress() == 2);

            for (int i = 0; i < 3; i++) {
                assertThat(RawHttp.exchange(InetAddress.getLoopbackAddress(), port, HEAD + "Connection: close\r\n\r\n").body())
                        .as("a head that came whole, with two awaited").isEqualTo("ok");
            }
            assertThat(protocol.evicted()).isZero();
            assertThat(protocol.requestsInProgress()).isEqualTo(2);

            RawHttp.write(third, HEAD);
            assertThat(first.getInputStream().read()).as("the head awaited longest, closed unanswered").isEqualTo(-1);
            assertThat(protocol.evicted()).isEqualTo(1);
            RawHttp.write(second, "Connection: close\r\n\r\n");
            RawHttp.write(third, "Connection: close\r\n\r\n");
            assertThat(RawHttp.parse(second.getInputStream().readAllBytes()).body()).isEqualTo("ok");
            assertThat(RawHttp.parse(third.getInputStream().readAllBytes()).body()).isEqualTo("ok");
            await().atMost(Duration.ofSeconds(10)).until(() -> protocol.requestsInProgress() == 0);
        }
    }

    @Test
    void countingEveryRequestANewOneIsRefusedWhileEveryPlaceIsBeingAnsweredAndTakenOnceOneIsFree() throws Exception {
        protocol.limitRequestsInProgress(2);
        int port = start();
        String post = "POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        try (Socket first = connect(port); Socket second = connect(port)) {
            RawHttp.write(first, post);
            RawHttp.write(second, post);
            await().atMost(Duration.ofSeconds(10)).until(() -> protocol.requestsInProgress() == 2);
            // past the body's grace: a request whose body came whole is never ended for another
            await().pollDelay(RequestsInProgress.BODY_GRACE.plusMillis(200)).until(() -> true);
            try (Socket third = connect(port)) {
                RawHttp.write(third, HEAD + "Connection: close\r\n\r\n");
                assertThat(RawHttp.untilClosed(third)).as("closed unanswered").isEmpty();
            }
            assertThat(protocol.refused()).isEqualTo(1);
            assertThat(protocol.evicted()).isZero();

            answer.countDown();
            assertThat(RawHttp.parse(first.getInputStream().readAllBytes()).body()).isEqualTo("answered");
            assertThat(RawHttp.parse(second.getInputStream().readAllBytes()).body()).isEqualTo("answered");
            assertThat(RawHttp.exchange(InetAddress.getLoopbackAddress(), port, HEAD + "Connection: close\r\n\r\n").body())
                    .isEqualTo("ok");
            await().atMost(Duration.ofSeconds(10)).until(() -> protocol.requestsInProgress() == 0);
        }
    }

    /**
     * Three places: one silent since it opened, one kept open after its answer, one being answered. A
     * new connection gets the silent one's place, not the two others'; the next finds that place free
     * again, and nothing more is closed.
     *
     * <p>Tomcat stamps a connection's last activity in milliseconds, and two connections idle since the
     * same millisecond have waited equally long: either may go. A warm server can accept the silent
     * connection and answer the kept one within one millisecond, so the kept one asks only once the
     * clock has moved on from the silent one's acceptance.
     */
    @Test
    void atTheConnectionLimitTheConnectionsWaitingLongestForARequestAreClosedSoThatNewOnesAreAnswered() throws Exception {
        protocol.setMaxConnections(3);
        int port = start();
        String post = "POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        try (Socket silent = connect(port)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> protocol.connections() == 1);
            long accepted = System.currentTimeMillis();
            await().pollInterval(Duration.ofMillis(1)).until(() -> System.currentTimeMillis() > accepted);
            try (Socket kept = connect(port); Socket busy = connect(port)) {
                RawHttp.write(kept, HEAD + "\r\n");
                assertThat(RawHttp.next(kept).body()).isEqualTo("ok");
                RawHttp.write(busy, post);
                await().atMost(Duration.ofSeconds(10)).until(() -> protocol.connections() == 3);

                assertThat(answeredWithin(port, Duration.ofSeconds(5))).as("a new connection, every place held").isEqualTo("ok");
                assertThat(silent.getInputStream().read()).as("silent longest: closed").isEqualTo(-1);
                assertThat(protocol.idleClosed()).isEqualTo(1);

                assertThat(answeredWithin(port, Duration.ofSeconds(5))).as("another, a place free").isEqualTo("ok");
                assertThat(protocol.idleClosed()).as("none closed while a place is free").isEqualTo(1);
                RawHttp.write(kept, HEAD + "\r\n");
                assertThat(RawHttp.next(kept).body()).as("kept open, and asked again").isEqualTo("ok");

                answer.countDown();
                assertThat(RawHttp.parse(busy.getInputStream().readAllBytes()).body()).as("never closed while answered")
                        .isEqualTo("answered");
            }
        }
    }

    @Test
    void withoutALimitNothingIsCounted() throws Exception {
        int port = start();
        assertThat(RawHttp.exchange(InetAddress.getLoopbackAddress(), port, HEAD + "Connection: close\r\n\r\n").body()).isEqualTo("ok");
        assertThat(protocol.requestsInProgress()).isNaN();
    }

    /** The body of a request on a new connection, which must be answered within {@code limit}. */
    private static String answeredWithin(int port, Duration limit) {
        return assertTimeoutPreemptively(limit, () -> RawHttp.exchange(InetAddress.getLoopbackAddress(), port,
                HEAD + "Connection: close\r\n\r\n").body());
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(20_000);
        return socket;
    }
}
