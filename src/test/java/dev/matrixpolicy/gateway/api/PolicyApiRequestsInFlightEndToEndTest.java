package dev.matrixpolicy.gateway.api;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import dev.matrixpolicy.gateway.testmodules.Gate;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;

/**
 * The policy API's requests in flight are held within their bound: past it a request is refused 503
 * {@code M_LIMIT_EXCEEDED} at once, before its body is read, counted, and answered again once a place
 * is free. Two places here, and a module that holds {@code check_event_for_spam} until the test opens
 * its {@link Gate} (application-body-memory.yml), as a slow policy service would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("body-memory")
class PolicyApiRequestsInFlightEndToEndTest extends GatewayEndToEnd {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("failed on", "503 M_LIMIT_EXCEEDED");

    private static final RequestsInFlight TWO = new RequestsInFlight(2);
    private static final String PATH = "/v1/spam_checker/check_event_for_spam";
    private static final String EVENT = "{\"event\": {\"event_id\": \"$e:example.com\", \"sender\": \"@alice:example.com\","
            + " \"room_id\": \"!room:example.com\", \"type\": \"m.room.message\", \"content\": {\"body\": \"hello\"}}}";

    @TestConfiguration
    static class TwoPlaces {
        @Bean
        @Primary
        RequestsInFlight twoInFlight() {
            return TWO;
        }
    }

    PolicyApiRequestsInFlightEndToEndTest() {
        super("body-memory-token");
    }

    @AfterEach
    void openTheGate() {
        Gate.open();
    }

    @Test
    void aRequestPastThoseInFlightIsRefused503AtOnceUntilOneIsAnswered() throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            List<CompletableFuture<HttpResponse<String>>> held = holdBothPlaces(client);

            Answer refused = gateway.post(PATH, EVENT);
            assertThat(refused.status()).as(refused.body()).isEqualTo(503);
            assertThat(refused.json().get("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
            assertThat(refused.json().get("error").asString()).contains("Too many requests are being answered at once (2");
            assertThat(scrape(managementPort))
                    .containsPattern("(?m)^policy_requests_in_flight(\\{[^}]*})? 2.0$")
                    .containsPattern("(?m)^policy_requests_in_flight_max(\\{[^}]*})? 2.0$")
                    .containsPattern("(?m)^policy_requests_in_flight_refused_total(\\{[^}]*})? 1.0$")
                    .containsPattern("policy_requests_errors_total\\{[^}]*errcode=\"M_LIMIT_EXCEEDED\"[^}]*status=\"503\"[^}]*} 1");

            Gate.open();
            for (CompletableFuture<HttpResponse<String>> answer : held) {
                assertThat(answer.get().statusCode()).as("a held request is answered").isEqualTo(200);
            }
        }
        PolicyApiBodyMemoryEndToEndTest.awaitHeld(TWO::inFlight, 0); // given back once the servlet returns, maybe just after the answer
        assertThat(gateway.post(PATH, EVENT).status()).as("answered once a place is free").isEqualTo(200);
    }

    /** Every path is refused past the requests in flight, discovery and ping too, and the reference says so for each. */
    @Test
    void everyOperationRefusedPastTheRequestsInFlightIsAnsweredAsTheReferenceDocuments() throws Exception {
        JsonNode reference = OpenApiDocument.build(OpenApiDocument.projectVersion());
        List<String> undocumented = new ArrayList<>();
        try (HttpClient client = HttpClient.newHttpClient()) {
            List<CompletableFuture<HttpResponse<String>>> held = holdBothPlaces(client);
            reference.get("paths").properties().forEach(path -> {
                String method = path.getValue().propertyNames().iterator().next();
                Answer refused = gateway.send(gateway.authorized(path.getKey()).method(method.toUpperCase(Locale.ROOT),
                        HttpRequest.BodyPublishers.ofString(EVENT)).build());
                assertThat(refused.status()).as("%s %s", method, path.getKey()).isEqualTo(503);
                if (reference.at("/paths/" + path.getKey().replace("/", "~1") + "/" + method + "/responses/503").isMissingNode()) {
                    undocumented.add(method + " " + path.getKey());
                } else {
                    assertThat(OpenApiDocumentTest.answerProblems(reference, path.getKey(), method, 503, refused.json())).isEmpty();
                }
            });
            Gate.open();
            for (CompletableFuture<HttpResponse<String>> answer : held) {
                answer.get();
            }
        }
        assertThat(undocumented).as("operations whose 503 is not in the reference").isEmpty();
    }

    /** Both places taken by a check_event_for_spam that the closed gate holds. */
    private List<CompletableFuture<HttpResponse<String>>> holdBothPlaces(HttpClient client) throws InterruptedException {
        Gate.close();
        List<CompletableFuture<HttpResponse<String>>> held = IntStream.range(0, 2).mapToObj(n -> client.sendAsync(
                gateway.authorized(PATH).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(EVENT)).build(),
                HttpResponse.BodyHandlers.ofString())).toList();
        assertThat(Gate.reached(Duration.ofSeconds(10)) && Gate.reached(Duration.ofSeconds(10))).as("both held").isTrue();
        return held;
    }
}
