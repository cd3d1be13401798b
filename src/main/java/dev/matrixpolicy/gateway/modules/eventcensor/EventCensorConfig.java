package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.module.FailureMode;
import jakarta.validation.constraints.NotNull;
import java.net.URI;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the {@code event_censor} module.
 *
 * @param endpoint            the censor service: each event is POSTed here
 * @param timeout             how long to wait for the censor's answer
 * @param connectTimeout      how long to wait for a connection to the censor
 * @param maxReplySize        the longest answer read; a longer one is a backend failure
 * @param failureMode         what to answer when the censor is down, slow, or answers something it cannot
 *                            read: deny the event, so nothing goes out uncensored and nothing goes out at
 *                            all during an outage (closed), or allow it unchanged, so messages keep
 *                            flowing, uncensored, during an outage (open)
 * @param includeRemoteEvents also censor events whose sender is on another server: Synapse asks about
 *                            other servers' users' joins, leaves and knocks through this one, never about
 *                            the events other servers send (see the docs)
 */
public record EventCensorConfig(
        @NotNull URI endpoint,
        @DefaultValue("2s") @DurationMin(millis = 1) Duration timeout,
        @DefaultValue("1s") @DurationMin(millis = 1) Duration connectTimeout,
        @DefaultValue("1MB") DataSize maxReplySize,
        @DefaultValue("fail-open") FailureMode failureMode,
        @DefaultValue("false") boolean includeRemoteEvents) {
}
