package dev.matrixpolicy.gateway.state;

import java.time.Duration;
import java.util.Objects;

/**
 * A token bucket's shape: it holds at most {@code capacity} tokens, starts full, and refills
 * continuously at {@code capacity} tokens per {@code period}, so an empty bucket is full again after
 * one period. Each allowed action takes one token: a burst of {@code capacity} at once, then one per
 * {@code period / capacity}.
 *
 * @param capacity the burst, at least 1
 * @param period   how long an empty bucket takes to refill, at least 1 ms
 */
public record Bucket(long capacity, Duration period) {
    public Bucket {
        Objects.requireNonNull(period, "period");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        if (period.toMillis() < 1) {
            throw new IllegalArgumentException("period must be at least 1ms, got " + period);
        }
    }

    /** The period in milliseconds. */
    long periodMillis() {
        return period.toMillis();
    }

    /**
     * The pure arithmetic both backends share (the Lua script of {@link RedisState} repeats it):
     * the tokens held {@code elapsedMillis} after the bucket held {@code tokens}.
     */
    double refill(double tokens, long elapsedMillis) {
        return Math.min(capacity, tokens + Math.max(0, elapsedMillis) * (double) capacity / periodMillis());
    }

    /** How long until a bucket holding {@code tokens} (fewer than 1) holds one token, rounded up to 1 ms at least. */
    long millisUntilOneToken(double tokens) {
        return Math.max(1, (long) Math.ceil((1 - tokens) * periodMillis() / capacity));
    }
}
