package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.module.BackendClient;
import dev.matrixpolicy.gateway.module.BackendFailures;
import dev.matrixpolicy.gateway.module.BackendTimer;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import dev.matrixpolicy.gateway.modules.auditwebhook.AuditRecords.Written;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;

/**
 * Delivers one record to the webhook: POSTs it, retries what a retry can fix with exponential
 * backoff, and times every attempt ({@value BackendTimer#NAME}). Runs on a sender thread, never
 * on the thread of a callback.
 */
final class WebhookDelivery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookDelivery.class);
    /** Enough of a reply body to let the connection be reused; webhooks answer with little or nothing. */
    private static final int DRAINED_REPLY_BYTES = 64 * 1024;

    /** How delivering a record ended. */
    sealed interface Result {
        /** The webhook answered 2xx. */
        record Delivered() implements Result {
        }

        /** The webhook refused the record (a 4xx other than 408 and 429): sending it again cannot help. */
        record Rejected(String cause) implements Result {
        }

        /** Every attempt failed with something a retry could have fixed. */
        record Exhausted(int attempts, String cause) implements Result {
        }

        /** Shutdown stopped the delivery before it ended; the record may or may not have arrived. */
        record Interrupted() implements Result {
        }
    }

    /** One attempt: done, worth retrying, or not. */
    private enum Verdict { DELIVERED, RETRY, GIVE_UP, INTERRUPTED }

    private record Attempt(Verdict verdict, String cause) {
    }

    private final String instanceName;
    private final URI url;
    private final String token;
    private final int maxAttempts;
    private final Backoff backoff;
    private final Duration timeout;
    private final BackendClient httpClient;
    private final RestClient restClient;
    private final BackendTimer timer;

    WebhookDelivery(String instanceName, AuditWebhookConfig config, MeterRegistry meterRegistry) {
        this.instanceName = instanceName;
        this.url = config.url();
        this.token = config.token();
        this.maxAttempts = config.maxAttempts();
        this.backoff = new Backoff(config.initialBackoff(), config.maxBackoff());
        this.timeout = config.timeout();
        // The JDK client's default protocol, which this module has always used: HTTP/2 where the webhook offers it.
        this.httpClient = new BackendClient(HttpClient.Version.HTTP_2, config.connectTimeout());
        this.restClient = httpClient.restClient(config.timeout());
        this.timer = new BackendTimer(instanceName, meterRegistry);
    }

    /** Sends the record until it is delivered, refused, out of attempts, or shutdown interrupts. */
    Result deliver(Written record) {
        for (int attempt = 1; ; attempt++) {
            Attempt result = post(record);
            switch (result.verdict()) {
                case DELIVERED -> {
                    return new Result.Delivered();
                }
                case GIVE_UP -> {
                    return new Result.Rejected(result.cause());
                }
                case INTERRUPTED -> {
                    return new Result.Interrupted();
                }
                case RETRY -> {
                    if (attempt >= maxAttempts) {
                        return new Result.Exhausted(attempt, result.cause());
                    }
                    Duration wait = backoff.delay(attempt, ThreadLocalRandom.current());
                    log.debug("audit webhook '{}': attempt {} for record {} failed ({}); retrying in {}",
                            instanceName, attempt, record.id(), result.cause(), wait);
                    try {
                        Thread.sleep(wait);
                    } catch (InterruptedException stopped) {
                        Thread.currentThread().interrupt();
                        return new Result.Interrupted();
                    }
                }
            }
        }
    }

    private Attempt post(Written record) {
        long start = System.nanoTime();
        Outcome outcome = Outcome.ERROR;
        try {
            HttpStatusCode status = restClient.post()
                    .uri(url)
                    .contentType(MediaType.APPLICATION_JSON)
                    .headers(headers -> {
                        if (token != null) {
                            headers.setBearerAuth(token);
                        }
                    })
                    .body(record.body())
                    .exchange((request, response) -> {
                        try (InputStream reply = response.getBody()) {
                            reply.readNBytes(DRAINED_REPLY_BYTES);
                        }
                        return response.getStatusCode();
                    });
            if (status.is2xxSuccessful()) {
                outcome = Outcome.SUCCESS;
                return new Attempt(Verdict.DELIVERED, null);
            }
            return new Attempt(retryable(status) ? Verdict.RETRY : Verdict.GIVE_UP, "HTTP " + status.value());
        } catch (RestClientException failed) {
            if (Thread.currentThread().isInterrupted()) {
                return new Attempt(Verdict.INTERRUPTED, null);
            }
            if (BackendFailures.isTimeout(failed)) {
                outcome = Outcome.TIMEOUT;
                return new Attempt(Verdict.RETRY, "no answer within " + timeout);
            }
            return new Attempt(Verdict.RETRY, BackendFailures.cause(failed));
        } finally {
            timer.record(outcome, System.nanoTime() - start);
        }
    }

    /**
     * 5xx: the webhook is in trouble, and may not be later. 408 and 429: it asked to be called again.
     * Any other status (a 4xx, or a redirect, which is not followed) says the record or the URL is
     * wrong, and sending the same record to the same URL again cannot change that.
     */
    static boolean retryable(HttpStatusCode status) {
        return status.is5xxServerError() || status.value() == 408 || status.value() == 429;
    }

    /** Aborts what is still in flight: by now the senders have stopped or were interrupted. */
    @Override
    public void close() {
        httpClient.shutdownNow();
    }
}
