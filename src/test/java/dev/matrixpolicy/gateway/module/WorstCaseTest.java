package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Worst cases read in configuration keys and durations as configuration writes them. */
class WorstCaseTest {

    @Test
    void oneRequestIsConnectingThenWaitingForTheAnswer() {
        assertThat(WorstCase.ofRequest(Duration.ofSeconds(1), Duration.ofMillis(1500)))
                .isEqualTo(new WorstCase(Duration.ofMillis(2500), "connect-timeout 1s + timeout 1500ms"));
    }
}
