package dev.matrixpolicy.gateway.replies;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/** The one reading of a reply's {@code Retry-After}, as RFC 9110 writes it. */
class RetryAfterTest {
    private static final Instant NOW = Instant.parse("2026-12-05T04:40:00Z");

    private static String httpDate(Instant instant) {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC));
    }

    @Test
    void secondsAreTheWait() {
        assertThat(RetryAfter.of("120", NOW)).contains(Duration.ofSeconds(120));
        assertThat(RetryAfter.of(" 0 ", NOW)).contains(Duration.ZERO);
    }

    @Test
    void moreSecondsThanALongHoldsAreAsLongAsOneCanSay() {
        assertThat(RetryAfter.of("99999999999999999999999", NOW)).contains(Duration.ofSeconds(Long.MAX_VALUE));
    }

    @Test
    void aDateIsTheWaitUntilItRoundedUpToWholeSecondsAndNoneWhenPast() {
        assertThat(RetryAfter.of(httpDate(NOW.plusSeconds(90)), NOW.minusMillis(400))).contains(Duration.ofSeconds(91));
        assertThat(RetryAfter.of(httpDate(NOW.minusSeconds(30)), NOW)).contains(Duration.ZERO);
    }

    @Test
    void aMissingBlankOrMalformedHeaderAsksForNoWait() {
        assertThat(RetryAfter.of(null, NOW)).isEmpty();
        assertThat(RetryAfter.of("  ", NOW)).isEmpty();
        assertThat(RetryAfter.of("-5", NOW)).isEmpty();
        assertThat(RetryAfter.of("1.5", NOW)).isEmpty();
        assertThat(RetryAfter.of("tomorrow", NOW)).isEmpty();
    }
}
