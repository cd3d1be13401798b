package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
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

    @Test
    void anUnreachableHomeserverIsOneConditionWhateverTheJdkSaysOfEachConnection() {
        // a proxy with no homeserver behind it, as the end-to-end suite's cut connection showed: the
        // JDK's words alternated from one retry to the next, and each retry logged a WARN line
        HomeserverFailure pipe = HomeserverFailure.unreachable("GET /sync", new ConnectException("Broken pipe"));
        HomeserverFailure noBytes = HomeserverFailure.unreachable("GET /sync",
                new IOException("HTTP/1.1 header parser received no bytes"));

        assertThat(pipe.condition()).isEqualTo(noBytes.condition()).isEqualTo("cannot reach the homeserver (GET /sync)");
        assertThat(pipe.getMessage()).isEqualTo("cannot reach the homeserver (GET /sync: ConnectException: Broken pipe)");
        assertThat(noBytes.getMessage())
                .isEqualTo("cannot reach the homeserver (GET /sync: IOException: HTTP/1.1 header parser received no bytes)");
        assertThat(HomeserverFailure.unreachable("GET /account/whoami", new ConnectException("Broken pipe")).condition())
                .as("another call is another condition").isNotEqualTo(pipe.condition());
    }
}
