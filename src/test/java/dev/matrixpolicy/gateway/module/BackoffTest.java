package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The one retry pause: doubling, capped, jittered between half the ceiling and the ceiling. */
class BackoffTest {
    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

    @Test
    void ceilingDoublesAfterEachFailedAttemptUpToTheMaximum() {
        assertThat(IntStream.rangeClosed(1, 5).mapToObj(backoff::ceiling).map(Duration::toMillis))
                .containsExactly(100L, 200L, 400L, 800L, 1000L);
    }

    @Test
    void manyAttemptsStayAtTheMaximumWithoutOverflowing() {
        assertThat(backoff.ceiling(63)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.ceiling(64)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.ceiling(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void jitteredDelayLiesBetweenHalfTheCeilingAndTheCeiling() {
        SplittableRandom random = new SplittableRandom(42);
        for (int attempt = 1; attempt <= 6; attempt++) {
            long ceiling = backoff.ceiling(attempt).toMillis();
            for (int i = 0; i < 200; i++) {
                assertThat(backoff.delay(attempt, random).toMillis()).isBetween(ceiling / 2, ceiling);
            }
        }
    }

    @Test
    void jitterSpreadsTheDelays() {
        SplittableRandom random = new SplittableRandom(7);
        assertThat(IntStream.range(0, 50).mapToObj(i -> backoff.delay(3, random)).distinct().count()).isGreaterThan(10);
    }

    @Test
    void zeroOrNegativeInitialPauseNeverPauses() {
        assertThat(new Backoff(Duration.ZERO, Duration.ZERO).delay(3, new SplittableRandom(1))).isZero();
        assertThat(new Backoff(Duration.ofMillis(-5), Duration.ofSeconds(1)).ceiling(4)).isZero();
    }

    @Test
    void capBelowTheFirstPauseIsRefusedAtStartupNamingItsKey() {
        assertThatExceptionOfType(ModuleConfigurationException.class)
                .isThrownBy(() -> Backoff.of("retry-backoff", Duration.ofSeconds(2), "retry-max-backoff", Duration.ofSeconds(1)))
                .satisfies(refused -> assertThat(refused.field()).isEqualTo("retry-max-backoff"))
                .withMessageContaining("retry-backoff");
    }
}
