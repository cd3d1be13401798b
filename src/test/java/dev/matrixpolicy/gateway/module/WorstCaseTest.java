package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Worst cases read in configuration keys and durations as configuration writes them, never rounded down. */
class WorstCaseTest {

    @Test
    void wholeSecondsAreWrittenInSecondsAndTheRestInMilliseconds() {
        assertThat(WorstCase.format(Duration.ofSeconds(5))).isEqualTo("5s");
        assertThat(WorstCase.format(Duration.ofMillis(4050))).isEqualTo("4050ms");
        assertThat(WorstCase.format(Duration.ofMillis(50))).isEqualTo("50ms");
        assertThat(WorstCase.format(Duration.ZERO)).isEqualTo("0s");
    }

    @Test
    void oneRequestIsConnectingThenWaitingForTheAnswer() {
        assertThat(WorstCase.ofRequest(Duration.ofSeconds(1), Duration.ofMillis(1500)))
                .isEqualTo(new WorstCase(Duration.ofMillis(2500), "connect-timeout 1s + timeout 1500ms"));
    }

    @Test
    void aFractionOfAMillisecondIsWrittenExactlyInAUnitConfigurationTakes() {
        assertThat(WorstCase.format(Duration.ofNanos(1_500_000))).isEqualTo("1500us");
        assertThat(WorstCase.format(Duration.ofMillis(999).plusNanos(1))).isEqualTo("999000001ns");
        assertThat(WorstCase.format(Duration.ofNanos(500_000))).as("not '1ms', which is not what was written").isEqualTo("500us");
        assertThat(WorstCase.format(Duration.ofMillis(-1500))).isEqualTo("-1500ms");
    }
}
