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
    void aWaitPastWhatNanosecondsCountIsTheLongestWhichItsReaderCanStillDoubleAndSleep() {
        assertThat(RetryAfter.of("99999999999999999999999", NOW)).contains(RetryAfter.LONGEST);
        assertThat(RetryAfter.of(String.valueOf(Long.MAX_VALUE), NOW)).contains(RetryAfter.LONGEST);
        assertThat(RetryAfter.of("Fri, 31 Dec 9999 23:59:59 GMT", NOW)).contains(RetryAfter.LONGEST);
        // what a policy room's reader does with the wait of two 429s in a row
        assertThat(RetryAfter.LONGEST.multipliedBy(2)).isGreaterThan(RetryAfter.LONGEST);
        assertThat(RetryAfter.LONGEST.toNanos()).isPositive();
        assertThat(RetryAfter.of(String.valueOf(RetryAfter.LONGEST.getSeconds() - 1), NOW))
                .contains(RetryAfter.LONGEST.minusSeconds(1));
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
