package dev.matrixpolicy.gateway.callbacks;

import java.time.Duration;

/**
 * Synapse's {@code MediaUploadLimit}: at most {@code maxBytes} uploaded per {@code timePeriodMs}.
 *
 * @param maxBytes     the bytes a user may upload in the period, 0 or more
 * @param timePeriodMs the period in milliseconds, at least 1
 */
public record MediaUploadLimit(long maxBytes, long timePeriodMs) {
    public MediaUploadLimit {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max_bytes must be 0 or more, got " + maxBytes);
        }
        if (timePeriodMs < 1) {
            throw new IllegalArgumentException("time_period_ms must be at least 1, got " + timePeriodMs);
        }
    }

    public Duration timePeriod() {
        return Duration.ofMillis(timePeriodMs);
    }
}
