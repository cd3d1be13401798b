package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A new gateway is not ready before its lists are in force: a list server that holds its first answer
 * keeps readiness at 503, naming the source, with the default {@code readiness: always}; once the
 * rules arrive the gateway is ready and refuses what they ban from its first answer on. A local file's
 * rules need no wait: they are in force from the first question, readiness or not.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "policy-gateway.server-name=example.com",
        "policy-gateway.auth.token=ready-token",
        "policy-gateway.modules[0].module=policy_list",
        "policy-gateway.modules[0].name=bans",
        "policy-gateway.modules[0].config.sources[0].name=slow-list",
        "policy-gateway.modules[0].config.sources[0].url=${ready-test.url}",
        "policy-gateway.modules[0].config.sources[0].poll-interval=10m",
        "policy-gateway.modules[0].config.sources[0].timeout=30s",
        "policy-gateway.modules[0].config.sources[1].name=local",
        "policy-gateway.modules[0].config.sources[1].file=${ready-test.file}"})
class ReadyWithListsInForceEndToEndTest {
    private static final CountDownLatch release = new CountDownLatch(1);
    private static final HttpServer listServer = listServer();
    private static final Path localList = localList();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @DynamicPropertySource
    static void url(DynamicPropertyRegistry registry) {
        registry.add("ready-test.url", () -> "http://127.0.0.1:" + listServer.getAddress().getPort() + "/bans.txt");
        registry.add("ready-test.file", localList::toString);
    }

    @AfterAll
    static void stop() {
        release.countDown();
        listServer.stop(0);
    }

    @Test
    void theGatewayIsReadyOnlyOnceItsListsFirstReadEndedAndThenRefusesWhatTheyBan() {
        assertThat(invite("@local-spammer:evil.example").status())
                .as("the local file's ban, on the first question, while the URL's first read is held").isEqualTo(403);
        Answer starting = readiness();
        assertThat(starting.status()).isEqualTo(503);
        assertThat(new GatewayClient(managementPort, null).get("/actuator/health").body())
                .as("the details, for a loopback caller").contains("first read under way").doesNotContain("\"local\"");

        release.countDown();

        await().atMost(Duration.ofSeconds(10)).until(() -> readiness().status() == 200);
        assertThat(invite("@spammer:evil.example").status()).as("the first answer after ready").isEqualTo(403);
    }

    private Answer invite(String inviter) {
        return new GatewayClient(port, "ready-token").post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"" + inviter + "\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}");
    }

    private Answer readiness() {
        return new GatewayClient(managementPort, null).get("/actuator/health/readiness");
    }

    private static Path localList() {
        try {
            Path file = Files.createTempFile("local-bans", ".txt");
            file.toFile().deleteOnExit();
            return Files.writeString(file, "ban user @local-spammer:evil.example from our own list\n");
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    /** A list server whose answers wait for {@link #release}. */
    private static HttpServer listServer() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/bans.txt", exchange -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                }
                byte[] body = "ban user @spammer:evil.example invite spam\n".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.start();
            return server;
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }
}
