package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.FailureMode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the {@code http} module.
 *
 * @param url            the remote policy service's base URL; callbacks go to {@code {url}/{category}/{callback}}, before
 *                       the URL's query string if it has one
 * @param callbacks      the Synapse callbacks forwarded, by name ({@code check_auth} goes through {@code loginTypes})
 * @param loginTypes     login types whose {@code check_auth} is forwarded, with the fields each needs
 * @param token          bearer token sent to the remote service
 * @param tokenFile      file holding that token, read once at startup
 * @param timeout        how long to wait for an answer, per attempt
 * @param timeouts       per-callback overrides of {@code timeout}, by callback name
 * @param connectTimeout how long to wait for a connection
 * @param maxReplySize   the longest answer read; a longer one is a backend failure
 * @param retries        extra attempts after a failed one, for questions only (notifications and check_auth are sent once)
 * @param retryBackoff   the longest pause before the first retry; it doubles for each further retry, and
 *                       each pause is drawn between half of that and all of it
 * @param retryMaxBackoff the cap on the doubling pause
 * @param circuitBreaker when to stop asking a failing service for a while
 * @param failureMode    what to answer when the service is down, slow, open-circuited or unreadable: the
 *                       callback's denying answer where it has one (e.g. a rejection, {@code false}),
 *                       otherwise abstain (closed); or abstain, the answer the chain would give without
 *                       this module, so the next module decides (open)
 */
public record HttpConfig(
        @NotNull URI url,
        @DefaultValue List<String> callbacks,
        @DefaultValue List<@Valid LoginTypeConfig> loginTypes,
        String token,
        Path tokenFile,
        @DefaultValue("1s") @DurationMin(millis = 1) Duration timeout,
        @DefaultValue Map<String, @NotNull @DurationMin(millis = 1) Duration> timeouts,
        @DefaultValue("1s") @DurationMin(millis = 1) Duration connectTimeout,
        @DefaultValue("1MB") DataSize maxReplySize,
        @DefaultValue("1") @Min(0) @Max(5) int retries,
        @DefaultValue("50ms") @NotNull @DurationMin(millis = 0, message = "must not be negative (0s retries at once)")
        Duration retryBackoff,
        @DefaultValue("1s") @NotNull Duration retryMaxBackoff,
        @DefaultValue @Valid CircuitBreakerSettings circuitBreaker,
        @DefaultValue("fail-closed") FailureMode failureMode) {

    /**
     * Without the token or the URL's path and query, so that logging a configuration never leaks a
     * secret: the query may carry an API key ({@code ?key=...}).
     */
    @Override
    public String toString() {
        return "HttpConfig[url=" + BackendUrls.origin(url) + "/..., callbacks=" + callbacks + ", loginTypes=" + loginTypes
                + ", token=" + (token == null ? "none" : "<redacted>") + ", tokenFile=" + tokenFile
                + ", timeout=" + timeout + ", timeouts=" + timeouts + ", connectTimeout=" + connectTimeout
                + ", maxReplySize=" + maxReplySize + ", retries=" + retries + ", retryBackoff=" + retryBackoff
                + ", retryMaxBackoff=" + retryMaxBackoff + ", circuitBreaker=" + circuitBreaker + ", failureMode=" + failureMode + "]";
    }

    /**
     * A login type whose {@code check_auth} is forwarded, like an entry of Synapse's {@code auth_checkers}.
     *
     * @param type   the login type, e.g. {@code m.login.password}
     * @param fields the fields of the login dict that the type needs, e.g. {@code password}
     */
    public record LoginTypeConfig(@NotBlank String type, @DefaultValue List<String> fields) {
    }

    /**
     * The circuit breaker of one module instance (Resilience4j, count-based sliding window).
     *
     * @param failureRateThreshold          percentage of failed calls in the window that opens the breaker
     * @param slidingWindowSize             how many recent calls the failure rate is computed over
     * @param minimumNumberOfCalls          calls needed before the failure rate counts
     * @param waitInOpenState               how long the breaker stays open before letting trial calls through
     * @param permittedCallsInHalfOpenState trial calls that decide whether it closes again
     */
    public record CircuitBreakerSettings(
            @DefaultValue("50") @Min(1) @Max(100) int failureRateThreshold,
            @DefaultValue("20") @Min(1) @Max(value = MAX_SLIDING_WINDOW_SIZE, message = "must be at most "
                    + MAX_SLIDING_WINDOW_SIZE + ": the breaker keeps a record of each call of its window in memory, made up front")
            int slidingWindowSize,
            @DefaultValue("10") @Min(1) int minimumNumberOfCalls,
            @DefaultValue("10s") @DurationMin(millis = 1) Duration waitInOpenState,
            @DefaultValue("3") @Min(1) int permittedCallsInHalfOpenState) {
        static final int MAX_SLIDING_WINDOW_SIZE = 10_000;
    }
}
