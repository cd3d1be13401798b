package dev.matrixpolicy.gateway.modules.threepidchecker;

import dev.matrixpolicy.gateway.callbacks.WorstCase;
import dev.matrixpolicy.gateway.module.BackendClient;
import dev.matrixpolicy.gateway.module.BackendFailures;
import dev.matrixpolicy.gateway.module.BackendTimer;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The 3PID backend over HTTP: one {@code GET url?medium=...&address=...} per question, each timed
 * under {@value BackendTimer#NAME} with outcome {@code success}, {@code error} or {@code timeout}.
 * Every way the backend can fail (unreachable, slow, non-2xx, unusable reply) ends as a
 * {@link BackendFailure} with a one-line description that names neither the 3PID nor the URL, which
 * may carry secrets.
 */
final class ThreepidBackend implements AutoCloseable {
    /** A verdict is a few dozen bytes; anything much larger is not a reply worth buffering. */
    static final int MAX_REPLY_BYTES = 64 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final String queryPrefix;
    private final Duration timeout;
    private final BackendClient httpClient;
    private final RestClient restClient;
    private final BackendTimer timer;

    /**
     * @param url     the configured URL, already checked: absolute http(s), no user info, no fragment
     * @param timeout bounds connecting and waiting for the reply
     * @param module  the instance name, the {@code module} tag of the timer
     */
    ThreepidBackend(URI url, Duration timeout, String module, MeterRegistry registry) {
        this.queryPrefix = queryPrefix(url);
        this.timeout = timeout;
        // As Synapse's client does for the original: HTTP/1.1 (no h2c upgrade dance with plain-http
        // backends), and no redirects, so a 3xx is a failure.
        this.httpClient = new BackendClient(HttpClient.Version.HTTP_1_1, timeout);
        this.restClient = httpClient.restClient(timeout);
        this.timer = new BackendTimer(module, registry);
    }

    /**
     * One request, never retried: {@code timeout} bounds connecting, and again waiting for the reply.
     */
    WorstCase worstCase() {
        return new WorstCase(timeout.multipliedBy(2), "timeout " + WorstCase.format(timeout) + " to connect + timeout "
                + WorstCase.format(timeout) + " for the reply");
    }

    /**
     * Asks the backend about one 3PID.
     *
     * @throws BackendFailure when there is no usable reply
     */
    ThreepidReply ask(String medium, String address) {
        long start = System.nanoTime();
        try {
            ThreepidReply reply = restClient.get().uri(target(medium, address)).accept(MediaType.APPLICATION_JSON)
                    .exchange((request, response) -> {
                        if (!response.getStatusCode().is2xxSuccessful()) {
                            throw BackendFailure.error("HTTP " + response.getStatusCode().value());
                        }
                        return read(response.getBody());
                    });
            timer.record(Outcome.SUCCESS, System.nanoTime() - start);
            return reply;
        } catch (BackendFailure failure) {
            timer.record(Outcome.ERROR, System.nanoTime() - start);
            throw failure;
        } catch (RestClientException unreachable) {
            BackendFailure failure = describe(unreachable);
            timer.record(Outcome.failure(failure.timedOut()), System.nanoTime() - start);
            throw failure;
        }
    }

    /** The request URL: the configured one, its own query string kept, with both parameters form-encoded. */
    private URI target(String medium, String address) {
        // Form encoding, as Synapse's client sends the original's parameters: '+' becomes %2B and a
        // space '+', so a backend decoding the query string as a form gets the address back exactly.
        return URI.create(queryPrefix + "medium=" + URLEncoder.encode(medium, StandardCharsets.UTF_8)
                + "&address=" + URLEncoder.encode(address, StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        httpClient.close();
    }

    private static String queryPrefix(URI url) {
        String base = url.toString();
        String query = url.getRawQuery();
        if (query == null) {
            return base + "?";
        }
        return query.isEmpty() || base.endsWith("&") ? base : base + "&";
    }

    private static ThreepidReply read(InputStream body) throws IOException {
        byte[] bytes = body.readNBytes(MAX_REPLY_BYTES + 1);
        if (bytes.length > MAX_REPLY_BYTES) {
            throw BackendFailure.error("reply larger than " + MAX_REPLY_BYTES + " bytes");
        }
        JsonNode json;
        try {
            json = JSON.readTree(bytes);
        } catch (JacksonException notJson) {
            throw BackendFailure.error("reply is not JSON");
        }
        try {
            return ThreepidReply.parse(json);
        } catch (IllegalArgumentException unusable) {
            throw BackendFailure.error(unusable.getMessage());
        }
    }

    private BackendFailure describe(RestClientException failure) {
        if (Thread.currentThread().isInterrupted() || interrupted(failure)) {
            // The chain gave up on this module (its entry's timeout) and cancelled the call.
            return BackendFailure.timeout("interrupted: the entry's timeout in the chain passed first");
        }
        if (BackendFailures.isTimeout(failure)) {
            return BackendFailure.timeout("no reply within " + timeout.toMillis() + " ms");
        }
        // RestClient's own message names the URL, with the 3PID in it: name the I/O error under it instead.
        return BackendFailure.error(BackendFailures.cause(failure));
    }

    private static boolean interrupted(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof InterruptedException) {
                return true;
            }
        }
        return false;
    }

    /** The backend gave no usable answer. Expected, so it carries no stack trace. */
    static final class BackendFailure extends RuntimeException {
        private final boolean timedOut;

        private BackendFailure(String description, boolean timedOut) {
            super(description, null, false, false);
            this.timedOut = timedOut;
        }

        static BackendFailure error(String description) {
            return new BackendFailure(description, false);
        }

        static BackendFailure timeout(String description) {
            return new BackendFailure(description, true);
        }

        boolean timedOut() {
            return timedOut;
        }
    }
}
