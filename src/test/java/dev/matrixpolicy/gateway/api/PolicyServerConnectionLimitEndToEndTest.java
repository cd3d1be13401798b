package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties.PolicyServer.ListenerLimits;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.RawHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.AbstractProtocol;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The federation listener holds no more than {@code max-connections} at once (four here), and no more
 * than {@code max-requests-in-progress} of them with a request being read or answered (two here), so
 * that requests dripped into connections a byte at a time, about 55 KiB of heap each, cannot run the
 * heap out and the policy API with it, while homeservers' connections kept open between requests take
 * no place: a new request takes the place of the one waiting longest for its headers, and is refused
 * only while every place answers; a new connection takes the place of the one waiting longest for a request.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // no file watcher: a reload reads the profile's file without the key file this test sets, and is refused
        properties = {"management.server.port=0", "policy-gateway.policy-server.port=0", "policy-gateway.reload.watch=false",
                "policy-gateway.policy-server.max-connections=4", "policy-gateway.policy-server.max-requests-in-progress=2"})
@ActiveProfiles("policyserver")
class PolicyServerConnectionLimitEndToEndTest {
    private static final Path KEY_FILE;
    private static final String WELL_KNOWN = "GET /.well-known/matrix/policy_server HTTP/1.1\r\nHost: policy.test\r\n";
    private static final String INVITE = "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", "
            + "\"room_id\": \"!room:example.com\"}";

    static {
        try {
            KEY_FILE = Files.createTempDirectory("policy-server").resolve("policy_server.key");
            PolicyServerKey.generate(KEY_FILE);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    @DynamicPropertySource
    static void policyServer(DynamicPropertyRegistry registry) {
        registry.add("policy-gateway.policy-server.key-file", KEY_FILE::toString);
    }

    @LocalServerPort
    int port;

    @Autowired
    WebServerApplicationContext context;

    @LocalManagementPort
    int managementPort;

    private Connector connector(boolean federation) {
        return Arrays.stream(((TomcatWebServer) context.getWebServer()).getTomcat().getService().findConnectors())
                .filter(connector -> (connector.getLocalPort() != port) == federation).findFirst().orElseThrow();
    }

    @Test
    void thePolicyApiAndManagementPortsHoldTheirHeadsAwaitedWithinAShareOfTheHeap() {
        assertThat(connector(false).getProtocolHandler()).isInstanceOfSatisfying(BoundedHttpProtocol.class,
                api -> assertThat(api.maxRequestsInProgress()).isEqualTo(PolicyGatewayProperties.requestsHeldIn(
                        Runtime.getRuntime().maxMemory() / 16, 2 * 8192)));
        assertThat(GatewayClient.scrape(managementPort))
                .containsPattern("(?m)^policy_connections_closed_total\\{[^}]*listener=\"policy_api\",reason=\"evicted\"[^}]*} ")
                .containsPattern("(?m)^policy_connections_closed_total\\{[^}]*listener=\"management\",reason=\"evicted\"[^}]*} ");
    }

    private static int maxConnections(Connector connector) {
        return ((AbstractProtocol<?>) connector.getProtocolHandler()).getMaxConnections();
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), connector(true).getLocalPort());
        socket.setSoTimeout(20_000);
        return socket;
    }

    private void awaitScraped(String metric, int value) {
        awaitScraped(metric, "", value);
    }

    /** How many connections the listener closed so far for {@code reason}: the tests share one gateway. */
    private int closedSoFar(String reason) {
        Matcher closed = Pattern.compile("(?m)^policy_connections_closed_total\\{[^}]*listener=\"policy_server\",reason=\""
                + reason + "\"[^}]*} (\\d+)\\.0$").matcher(GatewayClient.scrape(managementPort));
        assertThat(closed.find()).isTrue();
        return Integer.parseInt(closed.group(1));
    }

    /** {@code metric} reads {@code value}, with a {@code label} such as {@code reason="evicted"} if one is given. */
    private void awaitScraped(String metric, String label, int value) {
        String labels = label.isEmpty() ? "(\\{[^}]*})?" : "\\{[^}]*" + Pattern.quote(label) + "[^}]*}";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(GatewayClient.scrape(managementPort))
                .containsPattern("(?m)^" + Pattern.quote(metric) + labels + " " + value + "\\.0$"));
    }

    @Test
    void theListenerTakesItsOwnLimitsAndThePolicyApiKeepsTomcats() {
        assertThat(maxConnections(connector(true))).isEqualTo(4);
        assertThat(maxConnections(connector(false))).as("server.tomcat.max-connections' default").isEqualTo(8192);
        awaitScraped("policy_server_connections_max", 4);
        awaitScraped("policy_server_requests_in_progress_max", 2);
    }

    @Test
    void leftOutTheLimitsShareAnEighthOfTheHeapBetweenRequestsInProgressAndConnectionsKeptOpen() {
        long mebibyte = 1024 * 1024;
        long defaultHeaders = 2 * 8192;
        long imageHeap = 307 * mebibyte; // in a 512 MiB container
        assertThat(limits(null, null, imageHeap, defaultHeaders)).as("307 at 64 KiB, and 1091 more at 18 KiB")
                .isEqualTo(new ListenerLimits(1398, 307));
        assertThat(limits(null, null, imageHeap, 64 * 1024 + 8192)).as("a request header of up to 64 KiB")
                .isEqualTo(new ListenerLimits(1254, 163));
        assertThat(limits(null, null, 16 * mebibyte, defaultHeaders)).isEqualTo(new ListenerLimits(120, 64));
        assertThat(limits(null, null, 64 * 1024 * mebibyte, defaultHeaders)).isEqualTo(new ListenerLimits(8192, 8192));
        assertThat(limits(100, null, imageHeap, defaultHeaders)).as("no more requests than connections")
                .isEqualTo(new ListenerLimits(100, 100));
        assertThat(limits(null, 20, imageHeap, defaultHeaders)).isEqualTo(new ListenerLimits(1111, 20));
        assertThat(limits(5000, 20, imageHeap, defaultHeaders)).isEqualTo(new ListenerLimits(5000, 20));
    }

    private static ListenerLimits limits(Integer connections, Integer requests, long heapBytes, long headerBytes) {
        return PolicyGatewayProperties.PolicyServer.listenerLimits(connections, requests, heapBytes, headerBytes);
    }

    @Test
    void aRequestDrippingItsHeadersGivesItsPlaceToANewRequestWhileThePolicyApiAnswers() throws IOException {
        int evictedBefore = closedSoFar("evicted");
        try (Socket first = connect(); Socket second = connect(); Socket third = connect()) {
            // the first two send their request line and a header, and not yet the end of their headers
            RawHttp.write(first, WELL_KNOWN);
            awaitScraped("policy_server_requests_in_progress", 1);
            RawHttp.write(second, WELL_KNOWN);
            awaitScraped("policy_server_requests_in_progress", 2);
            assertThat(invite().status()).as("the policy API, with every place held").isEqualTo(200);

            RawHttp.write(third, WELL_KNOWN + "Connection: close\r\n\r\n");
            assertThat(RawHttp.parse(third.getInputStream().readAllBytes()).status()).isEqualTo(200);
            assertThat(first.getInputStream().read()).as("the longest waiting, closed unanswered").isEqualTo(-1);
            RawHttp.write(second, "Connection: close\r\n\r\n");
            assertThat(RawHttp.parse(second.getInputStream().readAllBytes()).status()).isEqualTo(200);
            awaitScraped("policy_connections_closed_total", "listener=\"policy_server\",reason=\"evicted\"", evictedBefore + 1);
        }
    }

    @Test
    void connectionsKeptOpenBetweenRequestsTakeNoPlace() throws IOException {
        try (Socket first = connect(); Socket second = connect(); Socket third = connect()) {
            for (int round = 0; round < 2; round++) {
                for (Socket socket : List.of(first, second, third)) {
                    RawHttp.write(socket, WELL_KNOWN + "\r\n");
                    assertThat(answer(socket)).contains("\"public_key\"");
                }
                awaitScraped("policy_server_connections", 3);
                awaitScraped("policy_server_requests_in_progress", 0);
            }
        }
    }

    @Test
    void aRequestWhoseBodyDoesNotComeGivesItsPlaceOnceItsGraceIsOver() throws IOException {
        int evictedBefore = closedSoFar("evicted");
        String sign = "POST /_matrix/policy/v1/sign HTTP/1.1\r\nHost: policy.test\r\nContent-Type: application/json\r\n"
                + "Content-Length: 4\r\nConnection: close\r\n\r\n";
        try (Socket first = connect(); Socket second = connect()) {
            // both bodies are being read, one byte of their four here, and held past their grace
            RawHttp.write(first, sign + "{");
            awaitScraped("policy_server_requests_in_progress", 1);
            RawHttp.write(second, sign + "{");
            awaitScraped("policy_server_requests_in_progress", 2);
            await().pollDelay(RequestsInProgress.BODY_GRACE.plusMillis(200)).until(() -> true);

            try (Socket third = connect()) {
                RawHttp.write(third, WELL_KNOWN + "Connection: close\r\n\r\n");
                assertThat(RawHttp.parse(third.getInputStream().readAllBytes()).status()).isEqualTo(200);
            }
            // the longest waiting for its body: its request ended, told why, its connection closed
            RawHttp.Response cut = RawHttp.parse(RawHttp.untilClosed(first));
            assertThat(cut.status()).as(cut.body()).isEqualTo(408);
            assertThat(cut.body()).contains("M_UNKNOWN", "it came too slowly while every place for requests was taken");
            assertThat(GatewayClient.scrape(managementPort)).as("not counted as a body that is not JSON")
                    .doesNotContain("outcome=\"not_json\"");
            awaitScraped("policy_connections_closed_total", "listener=\"policy_server\",reason=\"evicted\"", evictedBefore + 1);
            RawHttp.write(second, "}  ");
            assertThat(RawHttp.parse(second.getInputStream().readAllBytes()).status()).as("unsigned").isEqualTo(401);
        }
    }

    @Test
    void atItsConnectionLimitTheListenerClosesTheConnectionWaitingLongestForARequestForTheNextCaller() throws IOException {
        int idleBefore = closedSoFar("idle");
        try (Socket silent = connect(); Socket second = connect(); Socket third = connect(); Socket fourth = connect()) {
            for (Socket kept : List.of(second, third, fourth)) {
                RawHttp.write(kept, WELL_KNOWN + "\r\n");
                answer(kept);
            }
            awaitScraped("policy_server_connections", 4);

            try (Socket next = connect()) {
                RawHttp.write(next, WELL_KNOWN + "Connection: close\r\n\r\n");
                assertThat(RawHttp.parse(next.getInputStream().readAllBytes()).status()).as("accepted, every place held").isEqualTo(200);
            }
            assertThat(silent.getInputStream().read()).as("silent since it opened: closed").isEqualTo(-1);
            assertThat(closedSoFar("idle")).isGreaterThan(idleBefore);
        }
    }

    private RawHttp.Response invite() {
        return RawHttp.exchange(port, "POST /v1/spam_checker/user_may_invite HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer policyserver-token\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + "Content-Length: " + INVITE.length() + "\r\n\r\n" + INVITE);
    }

    /** One answer's body, leaving the connection open. */
    private static String answer(Socket socket) throws IOException {
        return RawHttp.next(socket).body();
    }
}
