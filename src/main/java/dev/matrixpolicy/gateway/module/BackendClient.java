package dev.matrixpolicy.gateway.module;

import java.net.http.HttpClient;
import java.time.Duration;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * The HTTP client under one module instance's {@link Backend}: one JDK {@link HttpClient}, which
 * pools connections and keeps them alive between calls, and Spring {@link RestClient}s over it, each
 * with its read timeout. Redirects are never followed: a 3xx is the backend's answer, which the
 * module judges like any other status. Replies are not compressed: none is asked for, and a
 * compressed one is read as the bytes it is.
 */
final class BackendClient implements AutoCloseable {
    private final HttpClient http;

    /**
     * @param version        {@link HttpClient.Version#HTTP_1_1} to speak HTTP/1.1 only (no h2c upgrade
     *                       attempt with a plain-http backend), {@link HttpClient.Version#HTTP_2} to
     *                       let the JDK negotiate HTTP/2 where the backend offers it (the JDK's default)
     * @param connectTimeout how long to wait for a connection to the backend
     */
    BackendClient(HttpClient.Version version, Duration connectTimeout) {
        this.http = HttpClient.newBuilder()
                .version(version)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /**
     * A client over this instance's connections that waits at most {@code readTimeout} for each
     * reply; a read timeout surfaces as an {@link java.net.http.HttpTimeoutException} under Spring's
     * wrapper (see {@link BackendFailures#isTimeout}). Add per-client defaults, such as an
     * {@code Authorization} header, with {@link RestClient#mutate()}.
     */
    RestClient restClient(Duration readTimeout) {
        JdkClientHttpRequestFactory requests = new JdkClientHttpRequestFactory(http);
        requests.setReadTimeout(readTimeout);
        // No Accept-Encoding, and a body is read as sent: Spring would ask for gzip and inflate it, so that
        // a reply of 1 MB could unpack into a gigabyte before the reply cap saw a byte of it.
        requests.enableCompression(false);
        return RestClient.builder().requestFactory(requests).build();
    }

    /** Waits for the calls in flight (each bounded by its read timeout), then releases the connections. */
    @Override
    public void close() {
        http.close();
    }

    /** Aborts the calls in flight and releases the connections at once. */
    void shutdownNow() {
        http.shutdownNow();
    }
}
