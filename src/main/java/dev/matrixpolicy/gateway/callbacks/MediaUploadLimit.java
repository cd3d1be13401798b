package dev.matrixpolicy.gateway.callbacks;

import java.time.Duration;

/**
 * Synapse's {@code MediaUploadLimit}: at most {@code maxBytes} uploaded per {@code timePeriodMs}.
 * A period of 0 is Synapse's to send: its {@code media_upload_limits} take {@code time_period: 0s}
 * (only a single upload larger than {@code maxBytes} then exceeds the limit). The gateway's own
 * answers give at least 1 ({@link ResultTypes#MEDIA_UPLOAD_LIMITS}).
 *
 * @param maxBytes     the bytes a user may upload in the period, 0 or more
 * @param timePeriodMs the period in milliseconds, 0 or more
 */
public record MediaUploadLimit(long maxBytes, long timePeriodMs) {
    public MediaUploadLimit {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max_bytes must be 0 or more, got " + maxBytes);
        }
        if (timePeriodMs < 0) {
            throw new IllegalArgumentException("time_period_ms must be 0 or more, got " + timePeriodMs);
        }
    }

    public Duration timePeriod() {
        return Duration.ofMillis(timePeriodMs);
    }
}
