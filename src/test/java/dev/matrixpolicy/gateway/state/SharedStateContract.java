package dev.matrixpolicy.gateway.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What every {@link SharedState} does, on the real clock: run against memory and against a real Redis. */
abstract class SharedStateContract {

    abstract SharedState state();

    private final String key = "test:" + UUID.randomUUID();

    @Test
    void aFullBucketAllowsABurstOfItsCapacityThenRefusesWithTheTimeUntilTheNextToken() {
        Bucket bucket = new Bucket(3, Duration.ofSeconds(9));

        long started = System.nanoTime();
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        Take refused = state().take(key, bucket);
        Duration taken = Duration.ofNanos(System.nanoTime() - started);

        assertThat(refused).isInstanceOf(Take.Refused.class);
        // one token's 3 s less what refilled since the first take: the time these calls took, which a loaded
        // machine can stretch (a fixed 500 ms margin was that machine's to use up), plus the clocks' whole ms
        assertThat(((Take.Refused) refused).retryAfter())
                .isBetween(Duration.ofMillis(3000).minus(taken).minusMillis(2), Duration.ofMillis(3000));
    }

    @Test
    void anEmptyBucketRefillsAtItsCapacityPerPeriod() throws InterruptedException {
        // One token a second: the two refusals hold as long as no more than a second is lost to scheduling
        // (with one token in 300 ms, a stall of 220 ms on a loaded machine let the last take through).
        Bucket bucket = new Bucket(2, Duration.ofSeconds(2));
        state().take(key, bucket);
        state().take(key, bucket);
        assertThat(state().take(key, bucket)).isInstanceOf(Take.Refused.class);

        Thread.sleep(1050); // one token takes 1 s

        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isInstanceOf(Take.Refused.class);
    }

    @Test
    void eachKeyHasABucketOfItsOwn() {
        Bucket bucket = new Bucket(1, Duration.ofMinutes(1));

        assertThat(state().take(key + ":alice", bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key + ":bob", bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key + ":alice", bucket)).isInstanceOf(Take.Refused.class);
    }

    @Test
    void countDistinctCountsEachMemberOnceWithinTheWindow() {
        Duration window = Duration.ofMinutes(1);

        assertThat(state().countDistinct(key, "!a:example.com", window)).isEqualTo(1);
        assertThat(state().countDistinct(key, "!b:example.com", window)).isEqualTo(2);
        assertThat(state().countDistinct(key, "!a:example.com", window)).isEqualTo(2);
        assertThat(state().countDistinct(key + ":other", "!a:example.com", window)).isEqualTo(1);
    }

    @Test
    void countDistinctForgetsMembersOlderThanTheWindow() throws InterruptedException {
        Duration window = Duration.ofMillis(300);
        state().countDistinct(key, "!a:example.com", window);
        state().countDistinct(key, "!b:example.com", window);

        Thread.sleep(400);

        assertThat(state().countDistinct(key, "!c:example.com", window)).isEqualTo(1);
    }

    @Test
    void peekAnswersWhatTakeWouldWithoutTakingAToken() {
        Bucket bucket = new Bucket(2, Duration.ofSeconds(8));

        long started = System.nanoTime();
        assertThat(state().peek(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().peek(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().peek(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);

        Take peeked = state().peek(key, bucket);
        Duration taken = Duration.ofNanos(System.nanoTime() - started);
        assertThat(peeked).isInstanceOf(Take.Refused.class);
        assertThat(((Take.Refused) peeked).retryAfter())
                .isBetween(Duration.ofMillis(4000).minus(taken).minusMillis(2), Duration.ofMillis(4000));
        assertThat(state().take(key, bucket)).isInstanceOf(Take.Refused.class);
    }

    @Test
    void peekDistinctCountsTheMemberOnceWithoutRecordingIt() {
        Duration window = Duration.ofMinutes(1);
        state().countDistinct(key, "!a:example.com", window);

        assertThat(state().peekDistinct(key, "!a:example.com", window)).isEqualTo(1);
        assertThat(state().peekDistinct(key, "!b:example.com", window)).isEqualTo(2);
        assertThat(state().peekDistinct(key, "!b:example.com", window)).isEqualTo(2);
        assertThat(state().peekDistinct(key + ":never", "!a:example.com", window)).isEqualTo(1);

        assertThat(state().countDistinct(key, "!c:example.com", window)).isEqualTo(2);
    }

    @Test
    void peekDistinctLeavesOutMembersOlderThanTheWindow() throws InterruptedException {
        Duration window = Duration.ofMillis(300);
        state().countDistinct(key, "!a:example.com", window);
        state().countDistinct(key, "!b:example.com", window);

        Thread.sleep(400);

        assertThat(state().peekDistinct(key, "!a:example.com", window)).isEqualTo(1);
    }
}
