package dev.matrixpolicy.gateway.replies;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * How long a reply's {@code Retry-After} header (RFC 9110) asks to wait: seconds, or an HTTP date.
 * The one reading of it, for a module's backend and a policy room's homeserver alike.
 */
public final class RetryAfter {
    /**
     * The longest wait read, some 292 years: what a duration holds in nanoseconds. A reply may ask for
     * more (any number of digits, a date in the year 9999), but its reader doubles the wait, adds it to
     * a time or sleeps it, and none of that may overflow because a server said so.
     */
    public static final Duration LONGEST = Duration.ofSeconds(Long.MAX_VALUE / 1_000_000_000);

    private RetryAfter() {
    }

    /**
     * The wait {@code value} asks for: its seconds, or the time until its date, rounded up to whole
     * seconds and none when it is past; at most {@link #LONGEST}. Empty when the header is missing,
     * blank or neither.
     *
     * @param now the time a date is counted from
     */
    public static Optional<Duration> of(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        String written = value.strip();
        if (written.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.of(atMostTheLongest(seconds(written)));
        }
        try {
            long millis = Duration.between(now, ZonedDateTime.parse(written, DateTimeFormatter.RFC_1123_DATE_TIME)).toMillis();
            return Optional.of(atMostTheLongest(Math.max(0, (millis + 999) / 1000)));
        } catch (DateTimeParseException malformed) {
            return Optional.empty();
        }
    }

    private static Duration atMostTheLongest(long seconds) {
        return Duration.ofSeconds(Math.min(seconds, LONGEST.getSeconds()));
    }

    private static long seconds(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException tooMany) {
            return Long.MAX_VALUE;
        }
    }
}
