package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What a failed call to the homeserver says, in the words of the policy room source's log lines. */
class HomeserverFailureTest {

    @Test
    void aTimeoutIsWrittenAsConfigurationWritesItNotRoundedToTheMillisecond() {
        assertThat(HomeserverFailure.timeout("/sync", Duration.ofSeconds(30)).getMessage())
                .isEqualTo("no answer from the homeserver to /sync within 30s");
        assertThat(HomeserverFailure.stalled("/sync", Duration.ofMillis(1500)).getMessage())
                .isEqualTo("the homeserver's answer to /sync stopped coming for 1500ms");
        assertThat(HomeserverFailure.overdue("/sync", Duration.ofNanos(1_500_000)).getMessage())
                .isEqualTo("the homeserver's answer to /sync took longer than 1500us");
    }
}
