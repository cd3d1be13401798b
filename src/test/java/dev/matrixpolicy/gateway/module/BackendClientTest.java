package dev.matrixpolicy.gateway.module;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;

/** The HTTP client a module builds for its backend, against a real local server. */
class BackendClientTest {
    private static final Duration GENEROUS = Duration.ofSeconds(5);

    @RegisterExtension
    static final WireMockExtension backend = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    @Test
    void redirectIsTheAnswerAndIsNotFollowed() {
        backend.stubFor(get("/moved").willReturn(aResponse().withStatus(302).withHeader("Location", backend.baseUrl() + "/elsewhere")));
        backend.stubFor(get("/elsewhere").willReturn(ok()));

        try (BackendClient client = new BackendClient(HttpClient.Version.HTTP_1_1, GENEROUS)) {
            int status = client.restClient(GENEROUS).get().uri(backend.baseUrl() + "/moved")
                    .exchange((request, response) -> response.getStatusCode().value());

            assertThat(status).isEqualTo(302);
        }
        backend.verify(0, getRequestedFor(urlEqualTo("/elsewhere")));
    }

    @Test
    void http11ClientDoesNotOfferAnUpgradeToAPlainHttpBackend() {
        backend.stubFor(get("/check").willReturn(ok()));

        try (BackendClient client = new BackendClient(HttpClient.Version.HTTP_1_1, GENEROUS)) {
            client.restClient(GENEROUS).get().uri(backend.baseUrl() + "/check").retrieve().toBodilessEntity();
        }
        backend.verify(getRequestedFor(urlEqualTo("/check")).withHeader("Upgrade", absent()));
    }

    @Test
    void http2ClientOffersTheUpgradeAsTheJdkDefaultDoes() {
        backend.stubFor(get("/check").willReturn(ok()));

        try (BackendClient client = new BackendClient(HttpClient.Version.HTTP_2, GENEROUS)) {
            client.restClient(GENEROUS).get().uri(backend.baseUrl() + "/check").retrieve().toBodilessEntity();
        }
        backend.verify(getRequestedFor(urlEqualTo("/check")).withHeader("Upgrade", equalTo("h2c")));
    }

    @Test
    void slowReplyEndsAtTheReadTimeoutAsATimeout() {
        backend.stubFor(get("/slow").willReturn(ok().withFixedDelay(3_000)));

        try (BackendClient client = new BackendClient(HttpClient.Version.HTTP_1_1, GENEROUS)) {
            long start = System.nanoTime();
            Throwable failure = catchThrowable(() -> client.restClient(Duration.ofMillis(200)).get()
                    .uri(backend.baseUrl() + "/slow").retrieve().toBodilessEntity());

            assertThat(failure).isInstanceOf(RestClientException.class);
            assertThat(BackendFailures.isTimeout(failure)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2_500));
        }
    }

    @Test
    void shutdownNowAbortsACallInFlight() throws Exception {
        backend.stubFor(get("/slow").willReturn(ok().withFixedDelay(10_000)));
        BackendClient client = new BackendClient(HttpClient.Version.HTTP_1_1, GENEROUS);
        RestClient rest = client.restClient(Duration.ofSeconds(20));
        CompletableFuture<Throwable> call = CompletableFuture.supplyAsync(() -> catchThrowable(() ->
                rest.get().uri(backend.baseUrl() + "/slow").retrieve().toBodilessEntity()));
        while (backend.getAllServeEvents().isEmpty()) {
            Thread.sleep(10);
        }

        client.shutdownNow();

        assertThat(call.get(5, TimeUnit.SECONDS)).isInstanceOf(RestClientException.class);
    }
}
