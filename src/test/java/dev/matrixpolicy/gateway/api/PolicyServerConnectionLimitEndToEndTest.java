package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.RawHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
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
 * The federation listener holds no more than {@code max-connections} at once (two here), so that
 * requests dripped into connections a byte at a time, about 50 KiB of heap each, cannot run the heap
 * out and the policy API with it: the next caller waits for a connection to close, while the
 * homeserver's own port answers all the while.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // no file watcher: a reload reads the profile's file without the key file this test sets, and is refused
        properties = {"management.server.port=0", "policy-gateway.policy-server.port=0", "policy-gateway.reload.watch=false",
                "policy-gateway.policy-server.max-connections=2"})
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

    private static int maxConnections(Connector connector) {
        return ((AbstractProtocol<?>) connector.getProtocolHandler()).getMaxConnections();
    }

    @Test
    void theListenerTakesItsOwnLimitAndThePolicyApiKeepsTomcats() {
        assertThat(maxConnections(connector(true))).isEqualTo(2);
        assertThat(maxConnections(connector(false))).as("server.tomcat.max-connections' default").isEqualTo(8192);
    }

    @Test
    void leftOutTheLimitIsWhatAnEighthOfTheHeapHoldsAtTheConnectionsHeaderSizes() {
        long mebibyte = 1024 * 1024;
        long defaultHeaders = 2 * 8192;
        assertThat(PolicyGatewayProperties.PolicyServer.connectionLimit(null, 307 * mebibyte, defaultHeaders))
                .as("the image's heap in a 512 MiB container").isEqualTo(614);
        assertThat(PolicyGatewayProperties.PolicyServer.connectionLimit(null, 307 * mebibyte, 64 * 1024 + 8192))
                .as("a request header of up to 64 KiB").isEqualTo(327);
        assertThat(PolicyGatewayProperties.PolicyServer.connectionLimit(null, 16 * mebibyte, defaultHeaders)).isEqualTo(64);
        assertThat(PolicyGatewayProperties.PolicyServer.connectionLimit(null, 64 * 1024 * mebibyte, defaultHeaders)).isEqualTo(8192);
        assertThat(PolicyGatewayProperties.PolicyServer.connectionLimit(5000, 307 * mebibyte, defaultHeaders)).isEqualTo(5000);
    }

    @Test
    void headersDrippedIntoEveryConnectionHoldBackTheNextCallerNotTheHomeserver() throws IOException {
        int federation = connector(true).getLocalPort();
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (Socket first = new Socket(loopback, federation); Socket second = new Socket(loopback, federation);
             Socket third = new Socket(loopback, federation)) {
            first.setSoTimeout(20_000);
            // the first two send their request line and a header, and never the end of their headers
            send(first, WELL_KNOWN);
            send(second, WELL_KNOWN);
            send(third, WELL_KNOWN + "Connection: close\r\n\r\n");

            RawHttp.Response invite = RawHttp.exchange(port, "POST /v1/spam_checker/user_may_invite HTTP/1.1\r\nHost: localhost\r\n"
                    + "Authorization: Bearer policyserver-token\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + "Content-Length: " + INVITE.length() + "\r\n\r\n" + INVITE);
            assertThat(invite.status()).as("the policy API, with every federation connection held").isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(GatewayClient.scrape(managementPort))
                    .containsPattern("(?m)^policy_server_connections(\\{[^}]*})? 2\\.0$")
                    .containsPattern("(?m)^policy_server_connections_max(\\{[^}]*})? 2\\.0$"));
            // a listener that had accepted it would answer its whole request in milliseconds
            third.setSoTimeout(1_000);
            assertThatThrownBy(() -> third.getInputStream().read()).as("the third caller, not accepted")
                    .isInstanceOf(SocketTimeoutException.class);
            third.setSoTimeout(20_000);

            send(first, "Connection: close\r\n\r\n");
            assertThat(RawHttp.parse(first.getInputStream().readAllBytes()).status()).isEqualTo(200);
            assertThat(RawHttp.parse(third.getInputStream().readAllBytes()).status())
                    .as("accepted once the first connection closed").isEqualTo(200);
        }
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }
}
