package dev.matrixpolicy.gateway.replies;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Durations in log lines and messages as configuration writes them, never rounded down. */
class DurationsTest {

    @Test
    void wholeSecondsAreWrittenInSecondsAndTheRestInMilliseconds() {
        assertThat(Durations.format(Duration.ofSeconds(5))).isEqualTo("5s");
        assertThat(Durations.format(Duration.ofMinutes(5))).as("no minutes: configuration writes 300s as often").isEqualTo("300s");
        assertThat(Durations.format(Duration.ofMillis(4050))).isEqualTo("4050ms");
        assertThat(Durations.format(Duration.ofMillis(50))).isEqualTo("50ms");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    }

    @Test
    void aFractionOfAMillisecondIsWrittenExactlyInAUnitConfigurationTakes() {
        assertThat(Durations.format(Duration.ofNanos(1_500_000))).isEqualTo("1500us");
        assertThat(Durations.format(Duration.ofMillis(999).plusNanos(1))).isEqualTo("999000001ns");
        assertThat(Durations.format(Duration.ofNanos(500_000))).as("not '1ms', which is not what was written").isEqualTo("500us");
        assertThat(Durations.format(Duration.ofMillis(-1500))).isEqualTo("-1500ms");
    }
}
