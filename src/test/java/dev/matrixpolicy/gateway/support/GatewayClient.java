package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real HTTP client against a gateway started on a random port.
 *
 * <p>Its idle keep-alive connections hold a gateway's shutdown in the connection drain
 * ({@code ConnectionDrain}) for the whole drain limit: a test that closes the gateway it started
 * closes its clients first.
 */
public final class GatewayClient implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;
    private final String token;

    public GatewayClient(int port, String token) {
        this.baseUrl = "http://127.0.0.1:" + port;
        this.token = token;
    }

    /** The answer as received: status, content type, body and every header. */
    public record Answer(int status, String contentType, String body, HttpHeaders headers) {
        public JsonNode json() {
            return JSON.readTree(body);
        }

        public String header(String name) {
            return headers.firstValue(name).orElse("");
        }
    }

    public static JsonNode json(String text) {
        return JSON.readTree(text);
    }

    /** What Prometheus would scrape from a gateway's management port ({@code /actuator/prometheus}). */
    public static String scrape(int managementPort) {
        try (GatewayClient management = new GatewayClient(managementPort, null)) {
            return management.get("/actuator/prometheus").body();
        }
    }

    public Answer post(String path, String body) {
        return send(authorized(path).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build());
    }

    /** A body of bytes as they are, not UTF-8 maybe. */
    public Answer post(String path, byte[] body) {
        return send(authorized(path).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json").build());
    }

    public Answer get(String path) {
        return send(authorized(path).GET().build());
    }

    /** Sends a request built by the test, e.g. with a wrong token. */
    public Answer send(HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), response.body(),
                    response.headers());
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(interrupted);
        }
    }

    /** Closes this client's connections; the gateway's drain no longer waits for them. */
    @Override
    public void close() {
        http.close();
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(20));
    }

    /** A request carrying this client's token, for the methods and bodies the shortcuts above do not cover. */
    public HttpRequest.Builder authorized(String path) {
        HttpRequest.Builder builder = request(path);
        return token == null ? builder : builder.header("Authorization", "Bearer " + token);
    }
}
