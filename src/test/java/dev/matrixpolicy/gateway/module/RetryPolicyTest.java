package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The worst case of a retried request, from the same backoff the retries pause by. */
class RetryPolicyTest {
    private static final WorstCase ATTEMPT = WorstCase.ofRequest(Duration.ofSeconds(1), Duration.ofSeconds(2));

    @Test
    void oneAttemptIsTheAttemptItself() {
        assertThat(RetryPolicy.NONE.worstCase(ATTEMPT, "retry-backoff")).isEqualTo(ATTEMPT);
    }

    @Test
    void everyAttemptAtItsLongestPlusTheCeilingOfEveryPause() {
        RetryPolicy policy = new RetryPolicy(4, new Backoff(Duration.ofMillis(400), Duration.ofSeconds(1)));

        assertThat(policy.worstCase(ATTEMPT, "initial-backoff")).isEqualTo(new WorstCase(Duration.ofMillis(4 * 3000 + 400 + 800 + 1000),
                "4 attempts × (connect-timeout 1s + timeout 2s) + initial-backoff 400ms + 800ms + 1s"));
    }

    @Test
    void noPauseIsEverLongerThanTheWorstCaseCountsIt() {
        RetryPolicy policy = new RetryPolicy(6, new Backoff(Duration.ofMillis(50), Duration.ofMillis(300)));
        SplittableRandom random = new SplittableRandom(3);
        for (int failed = 1; failed < policy.maxAttempts(); failed++) {
            for (int draw = 0; draw < 100; draw++) {
                assertThat(policy.backoff().delay(failed, random)).isLessThanOrEqualTo(policy.backoff().ceiling(failed));
            }
        }
    }

    @Test
    void atLeastOneAttempt() {
        assertThatIllegalArgumentException().isThrownBy(() -> new RetryPolicy(0, RetryPolicy.NONE.backoff()));
    }
}
