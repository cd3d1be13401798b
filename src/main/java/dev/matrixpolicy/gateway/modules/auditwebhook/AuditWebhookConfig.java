package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.PolicyModule;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the {@code audit_webhook} module.
 *
 * @param url                  where each record is POSTed (http or https)
 * @param token                optional bearer token sent to the webhook
 * @param tokenFile            file holding that token instead (a mounted Secret); a new token in it rebuilds the instance
 * @param callbacks            the notification callbacks to report, by Synapse name; {@code null} (left out) means
 *                             all, and an empty list is refused: an admin who empties it means none, not every message
 * @param includeStateEvents   whether {@code on_new_event} records carry the room state (it can be large)
 * @param queueCapacity        records waiting for delivery; a full queue drops new records
 * @param queueMaxSize         the bytes of the records waiting for delivery, as they will be sent; past it, new
 *                             records are dropped as by a full queue, so that large records behind a slow webhook
 *                             cannot run the gateway's heap out
 * @param senders              virtual threads delivering in parallel; 1 keeps the order of records
 * @param connectTimeout       how long one attempt may take to connect
 * @param timeout              how long one attempt may wait for the webhook's answer
 * @param maxAttempts          attempts per record, the first included
 * @param initialBackoff       the wait after the first failed attempt; it doubles after each further one
 * @param maxBackoff           the longest wait between two attempts
 * @param shutdownGrace        how long shutdown waits for queued records to be delivered; at most what the
 *                             gateway gives its modules to close ({@link PolicyModule#SHUTDOWN_CLOSE_SECONDS}), which
 *                             instances closing one after another share: what is left then is dropped and counted
 */
public record AuditWebhookConfig(
        @NotNull URI url,
        String token,
        Path tokenFile,
        @Size(min = 1, message = "must name at least one notification callback: leave the key out to report every one,"
                + " or remove the entry to report none") List<String> callbacks,
        @DefaultValue("false") boolean includeStateEvents,
        @DefaultValue("10000") @Min(1) int queueCapacity,
        @DefaultValue("64MB") DataSize queueMaxSize,
        @DefaultValue("1") @Min(1) @Max(64) int senders,
        @DefaultValue("2s") @DurationMin(millis = 1, message = "must be positive") Duration connectTimeout,
        @DefaultValue("5s") @DurationMin(millis = 1, message = "must be positive") Duration timeout,
        @DefaultValue("5") @Min(1) int maxAttempts,
        @DefaultValue("500ms") @DurationMin(millis = 1, message = "must be positive") Duration initialBackoff,
        @DefaultValue("30s") @DurationMin(millis = 1, message = "must be positive") Duration maxBackoff,
        @DefaultValue("5s") @DurationMin(millis = 0, message = "must not be negative")
        @DurationMax(seconds = PolicyModule.SHUTDOWN_CLOSE_SECONDS, message = "must be at most "
                + PolicyModule.SHUTDOWN_CLOSE_SECONDS + "s, the time the gateway gives its modules to close at shutdown")
        Duration shutdownGrace) {

    public AuditWebhookConfig {
        callbacks = callbacks == null ? null : List.copyOf(callbacks);
    }

    /**
     * The webhook's scheme, host and port only, for logs: webhook URLs often carry a secret in
     * their path or query, and user info may hold a password.
     */
    public String endpoint() {
        return BackendUrls.origin(url);
    }

    /** Without the token or the URL's path, so that logging a configuration never leaks a secret. */
    @Override
    public String toString() {
        return "AuditWebhookConfig[url=" + endpoint() + "/..., token=" + (token == null ? "none" : "<redacted>")
                + ", tokenFile=" + tokenFile + ", callbacks=" + callbacks + ", includeStateEvents=" + includeStateEvents
                + ", queueCapacity=" + queueCapacity + ", queueMaxSize=" + queueMaxSize + ", senders=" + senders + ", connectTimeout=" + connectTimeout
                + ", timeout=" + timeout + ", maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff
                + ", maxBackoff=" + maxBackoff + ", shutdownGrace=" + shutdownGrace + "]";
    }
}
