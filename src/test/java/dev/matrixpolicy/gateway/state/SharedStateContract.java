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

        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        Take refused = state().take(key, bucket);

        assertThat(refused).isInstanceOf(Take.Refused.class);
        assertThat(((Take.Refused) refused).retryAfter()).isBetween(Duration.ofMillis(2500), Duration.ofMillis(3000));
    }

    @Test
    void anEmptyBucketRefillsAtItsCapacityPerPeriod() throws InterruptedException {
        Bucket bucket = new Bucket(2, Duration.ofMillis(600));
        state().take(key, bucket);
        state().take(key, bucket);
        assertThat(state().take(key, bucket)).isInstanceOf(Take.Refused.class);

        Thread.sleep(380); // one token takes 300 ms

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

        assertThat(state().peek(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().peek(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().peek(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);
        assertThat(state().take(key, bucket)).isEqualTo(Take.ALLOWED);

        Take peeked = state().peek(key, bucket);
        assertThat(peeked).isInstanceOf(Take.Refused.class);
        assertThat(((Take.Refused) peeked).retryAfter()).isBetween(Duration.ofMillis(3500), Duration.ofMillis(4000));
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
