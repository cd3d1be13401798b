package dev.matrixpolicy.gateway.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared-state contract in memory, and, on a clock the test moves, its exact arithmetic. */
class MemoryStateTest extends SharedStateContract {
    private final MemoryState state = new MemoryState();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final MemoryState onTestClock = new MemoryState(now::get, 100);

    @Override
    SharedState state() {
        return state;
    }

    @AfterEach
    void close() {
        state.close();
        onTestClock.close();
    }

    @Test
    void retryAfterIsTheTimeUntilOneTokenRoundedUp() {
        Bucket bucket = new Bucket(3, Duration.ofSeconds(10));
        for (int i = 0; i < 3; i++) {
            onTestClock.take("k", bucket);
        }
        now.addAndGet(1000);

        assertThat(onTestClock.take("k", bucket)).isEqualTo(new Take.Refused(Duration.ofMillis(2334)));
    }

    @Test
    void anIdleBucketNeverHoldsMoreThanItsCapacity() {
        Bucket bucket = new Bucket(2, Duration.ofSeconds(10));
        onTestClock.take("k", bucket);
        now.addAndGet(Duration.ofHours(1).toMillis());

        assertThat(onTestClock.take("k", bucket)).isEqualTo(Take.ALLOWED);
        assertThat(onTestClock.take("k", bucket)).isEqualTo(Take.ALLOWED);
        assertThat(onTestClock.take("k", bucket)).isInstanceOf(Take.Refused.class);
    }

    @Test
    void aRefusedTakeTakesNothing() {
        Bucket bucket = new Bucket(1, Duration.ofSeconds(10));
        onTestClock.take("k", bucket);
        for (int i = 0; i < 5; i++) {
            onTestClock.take("k", bucket);
        }
        now.addAndGet(10_000);

        assertThat(onTestClock.take("k", bucket)).isEqualTo(Take.ALLOWED);
    }

    @Test
    void countDistinctKeepsAtMostMaxMembersPerKey() {
        long count = 0;
        for (int i = 0; i <= SharedState.MAX_MEMBERS; i++) {
            count = onTestClock.countDistinct("k", "member-" + i, Duration.ofHours(1));
        }

        assertThat(count).isEqualTo(SharedState.MAX_MEMBERS);
    }

    @Test
    void memoryIsLocalSoNeverBlocks() {
        assertThat(state.remote()).isFalse();
    }
}
