package dev.matrixpolicy.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The wait between two reads of changed content. */
class SettlingTest {
    @Test
    void theWaitLastsTheSettleTime() {
        long started = System.nanoTime();

        assertThat(Settling.waited()).isTrue();

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Settling.SETTLE);
    }

    @Test
    void aStoppingThreadDoesNotWaitAndKeepsItsInterruption() {
        Thread.currentThread().interrupt();
        try {
            assertThat(Settling.waited()).as("nothing read should be applied").isFalse();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted(); // leave the test runner's thread as it was
        }
    }
}
