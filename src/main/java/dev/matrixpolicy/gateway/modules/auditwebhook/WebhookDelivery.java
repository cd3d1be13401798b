package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendRequest;
import dev.matrixpolicy.gateway.module.Backoff;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.RetryPolicy;
import dev.matrixpolicy.gateway.modules.auditwebhook.AuditRecords.Written;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Optional;

/**
 * Delivers one record to the webhook through the instance's {@link Backend}: POSTs it, retries what
 * a retry can fix by {@code max-attempts} and the backoff between {@code initial-backoff} and
 * {@code max-backoff} (a {@code Retry-After} waited for up to {@code max-backoff}: no caller waits for
 * a record), and times every attempt. Runs on a sender thread, never on the thread of a
 * callback. The webhook's reply body is never read: its status is the answer.
 */
final class WebhookDelivery implements AutoCloseable {

    /** How delivering a record ended. */
    sealed interface Result {
        /** The webhook answered 2xx. */
        record Delivered() implements Result {
        }

        /**
         * The webhook refused the record (a 3xx, a 4xx other than 408 and 429), or its TLS certificate was
         * refused: sending it again cannot help.
         */
        record Rejected(String cause) implements Result {
        }

        /** Every attempt failed with something a retry could have fixed. */
        record Exhausted(int attempts, String cause) implements Result {
        }

        /** Shutdown stopped the delivery before it ended; the record may or may not have arrived. */
        record Interrupted() implements Result {
        }
    }

    private final URI url;
    private final Duration timeout;
    private final Backend backend;

    /** @param token the bearer token, checked and read (from {@code token} or {@code token-file}) by the module type */
    WebhookDelivery(AuditWebhookConfig config, Optional<String> token, ModuleContext context) {
        this.url = config.url();
        this.timeout = config.timeout();
        this.backend = Backend.builder(context, config.connectTimeout())
                .version(version(config.url()))
                .bearerToken(token)
                .retryPolicy(RetryPolicy.inTheBackground(config.maxAttempts(),
                        Backoff.of("initial-backoff", config.initialBackoff(), "max-backoff", config.maxBackoff())))
                .build();
    }

    /**
     * HTTP/2 where TLS negotiates it; HTTP/1.1 only over plain {@code http}. There the JDK would offer
     * an h2c upgrade with the first request of each connection, body included, and an h2c server
     * may refuse that request rather than read the body before switching (Tomcat answers 413 past its
     * 4 KB {@code maxSavePostSize}): a record, refused, is dropped and never sent again.
     */
    private static HttpClient.Version version(URI url) {
        return "https".equalsIgnoreCase(url.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1;
    }

    /** Sends the record until it is delivered, refused, out of attempts, or shutdown interrupts. */
    Result deliver(Written record) {
        try {
            backend.call(BackendRequest.post(record.callback(), url, record.body(), timeout), reply -> {
                if (!reply.isSuccessful()) {
                    throw BackendFailure.status(reply.status());
                }
                return reply.status();
            });
            return new Result.Delivered();
        } catch (BackendFailure failed) {
            if (failed.kind() == BackendFailure.Kind.INTERRUPTED) {
                return new Result.Interrupted();
            }
            return failed.retryable() ? new Result.Exhausted(failed.attempts(), failed.getMessage())
                    : new Result.Rejected(failed.getMessage());
        }
    }

    /** Aborts what is still in flight: by now the senders have stopped or were interrupted. */
    @Override
    public void close() {
        backend.shutdownNow();
    }
}
