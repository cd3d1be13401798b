package dev.matrixpolicy.gateway.modules.threepidchecker;

import dev.matrixpolicy.gateway.module.FailureMode;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the {@code threepid_checker} module. The first two keys are those of
 * synapse-3pid-checker; the rest make it fit for production.
 *
 * @param url                      the backend asked {@code GET url?medium=...&address=...}; http or https
 * @param onlyCheckAtRegistration  when true, binds outside registration are allowed without asking
 * @param timeout                  bound on connecting and on waiting for the reply, each
 * @param cacheTtl                 how long a backend verdict is reused; zero disables the cache
 * @param cacheMaxSize             how many verdicts the cache holds at most
 * @param maxReplySize             the longest reply read; a longer one is a backend failure
 * @param failureMode              the answer when the backend fails: deny the 3PID (closed, as
 *                                 synapse-3pid-checker does when its request raises) or allow it, so
 *                                 that this module falls through and the rest of the chain decides (open)
 */
public record ThreepidCheckerConfig(
        @NotBlank String url,
        @DefaultValue("false") boolean onlyCheckAtRegistration,
        @DefaultValue("2s") @NotNull @DurationMin(millis = 1, message = "must be positive") Duration timeout,
        @DefaultValue("60s") @NotNull @DurationMin(millis = 0, message = "must not be negative (0s turns the cache off)")
        Duration cacheTtl,
        @DefaultValue("10000") @Positive long cacheMaxSize,
        @DefaultValue("1MB") DataSize maxReplySize,
        @DefaultValue("fail-closed") @NotNull FailureMode failureMode) {

    /** Without the URL's path and query, so that logging a configuration never leaks a secret they hold. */
    @Override
    public String toString() {
        return "ThreepidCheckerConfig[url=<redacted>, onlyCheckAtRegistration=" + onlyCheckAtRegistration
                + ", timeout=" + timeout + ", cacheTtl=" + cacheTtl + ", cacheMaxSize=" + cacheMaxSize + ", maxReplySize=" + maxReplySize
                + ", failureMode=" + failureMode + "]";
    }
}
