package dev.matrixpolicy.gateway.modules.auditwebhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

    @Test
    void ceilingDoublesAfterEachFailedAttemptUpToTheMaximum() {
        assertThat(backoff.ceilingMillis(1)).isEqualTo(100);
        assertThat(backoff.ceilingMillis(2)).isEqualTo(200);
        assertThat(backoff.ceilingMillis(3)).isEqualTo(400);
        assertThat(backoff.ceilingMillis(4)).isEqualTo(800);
        assertThat(backoff.ceilingMillis(5)).isEqualTo(1000);
    }

    @Test
    void manyAttemptsStayAtTheMaximumWithoutOverflowing() {
        assertThat(backoff.ceilingMillis(63)).isEqualTo(1000);
        assertThat(backoff.ceilingMillis(64)).isEqualTo(1000);
        assertThat(backoff.ceilingMillis(Integer.MAX_VALUE)).isEqualTo(1000);
    }

    @Test
    void jitteredDelayLiesBetweenHalfTheCeilingAndTheCeiling() {
        SplittableRandom random = new SplittableRandom(42);
        for (int attempt = 1; attempt <= 6; attempt++) {
            long ceiling = backoff.ceilingMillis(attempt);
            for (int i = 0; i < 200; i++) {
                assertThat(backoff.delay(attempt, random).toMillis()).isBetween(ceiling / 2, ceiling);
            }
        }
    }

    @Test
    void jitterSpreadsTheDelays() {
        SplittableRandom random = new SplittableRandom(7);
        assertThat(java.util.stream.IntStream.range(0, 50).mapToObj(i -> backoff.delay(3, random)).distinct().count())
                .isGreaterThan(10);
    }
}
