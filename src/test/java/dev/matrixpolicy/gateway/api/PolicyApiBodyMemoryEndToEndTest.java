package dev.matrixpolicy.gateway.api;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import dev.matrixpolicy.gateway.testmodules.Gate;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.json.JsonMapper;

/**
 * The policy API's request bodies, with the trees that may be built of them, share one budget, held
 * until each request is answered: a request past it is refused 503 {@code M_LIMIT_EXCEEDED}, and
 * the budget comes back on every path. A small budget here, and a module that holds
 * {@code check_event_for_spam} until the test opens its {@link Gate} (application-body-memory.yml).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("body-memory")
class PolicyApiBodyMemoryEndToEndTest extends GatewayEndToEnd {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed on", "503 M_LIMIT_EXCEEDED");

    private static final long BUDGET = 100_000;
    private static final RequestBodyReader.Budget BODIES = RequestBodyReader.Budget.withTrees(BUDGET);
    private static final String PATH = "/v1/spam_checker/check_event_for_spam";
    /** An event of many small fields: 8 KB, which with its estimated tree holds more than half the budget. */
    private static final String EVENT = "{\"event\": {\"event_id\": \"$e:example.com\", \"sender\": \"@alice:example.com\","
            + " \"room_id\": \"!room:example.com\", \"type\": \"m.room.message\", \"origin_server_ts\": 1700000000000, \"content\": "
            + IntStream.range(0, 400).mapToObj(n -> "\"f" + n + "\": " + n).collect(Collectors.joining(", ", "{", "}")) + "}}";

    @TestConfiguration
    static class SmallBudget {
        @Bean
        @Primary
        RequestBodyReader smallBudgetReader(JsonMapper json, Generations generations) {
            return new RequestBodyReader(json, generations, BODIES);
        }
    }

    PolicyApiBodyMemoryEndToEndTest() {
        super("body-memory-token");
    }

    @AfterEach
    void openTheGate() {
        Gate.open();
    }

    @Test
    void aRequestPastTheBudgetOfThoseBeingAnsweredIsRefused503UntilOneIsAnswered() throws Exception {
        byte[] event = EVENT.getBytes(StandardCharsets.UTF_8);
        JsonTreeCost cost = JsonTreeCost.of(event);
        long one = 2L * event.length + cost.tree() + cost.decoding(); // the body, the copy of its arguments a module may forward, its tree
        assertThat(one).as("one fits, two do not").isBetween(BUDGET / 2 + 1, BUDGET);

        Gate.close();
        CompletableFuture<HttpResponse<String>> held = HttpClient.newHttpClient().sendAsync(
                gateway.authorized(PATH).POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(event)).build(),
                HttpResponse.BodyHandlers.ofString());
        awaitHeld(BODIES::held, one);

        Answer refused = gateway.post(PATH, event);
        assertThat(refused.status()).as(refused.body()).isEqualTo(503);
        assertThat(refused.json().get("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(refused.json().get("error").asString()).contains("heap").contains("try again shortly");
        assertThat(BODIES.held()).as("the refused body holds nothing").isEqualTo(one);
        assertThat(scrape(managementPort))
                .containsPattern("policy_requests_errors_total\\{[^}]*errcode=\"M_LIMIT_EXCEEDED\"[^}]*status=\"503\"[^}]*} 1")
                .contains("policy_requests_body_memory_bytes ");

        Gate.open();
        assertThat(held.get().statusCode()).as("the held request is answered as its module fails open").isEqualTo(200);
        awaitHeld(BODIES::held, 0);
        assertThat(gateway.post(PATH, event).status()).as("answered once the first is").isEqualTo(200);
        awaitHeld(BODIES::held, 0);
    }

    @Test
    void theBudgetComesBackWhateverTheRequestCameTo() throws Exception {
        assertThat(gateway.post(PATH, "{\"event\": [").status()).as("not JSON").isEqualTo(400);
        awaitHeld(BODIES::held, 0);
        assertThat(gateway.post(PATH, "{\"events\": {}}").status()).as("a missing argument").isEqualTo(400);
        awaitHeld(BODIES::held, 0);
        assertThat(gateway.post("/v1/spam_checker/ping", "{\"id\": 1}").status()).as("a ping").isEqualTo(200);
        awaitHeld(BODIES::held, 0);

        Gate.close();
        byte[] event = EVENT.getBytes(StandardCharsets.UTF_8);
        try (Socket gone = new Socket(InetAddress.getLoopbackAddress(), port)) { // a client that leaves before its answer
            OutputStream out = gone.getOutputStream();
            out.write(("POST " + PATH + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer body-memory-token\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + event.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(event);
            out.flush();
            awaitHeld(BODIES::held, 1);
        }
        Gate.open();
        awaitHeld(BODIES::held, 0);
    }

    /**
     * Waits until {@code held} is {@code expected} (at least {@code expected} when it is 1): a budget is
     * given back once the servlet returns, which may be just after the client has its whole answer.
     */
    static void awaitHeld(LongSupplier held, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (expected == 1 ? held.getAsLong() < 1 : held.getAsLong() != expected) {
            assertThat(System.nanoTime()).as("held %d, waiting for %d", held.getAsLong(), expected).isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
