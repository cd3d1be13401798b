package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import org.junit.jupiter.api.Test;
import org.springframework.web.client.ResourceAccessException;

/** Which failed backend calls are timeouts or interruptions, and descriptions cut to one line. */
class BackendFailuresTest {
    /** What RestClient says about a failed request: the URL, with whatever its query string holds. */
    private static final String SPRING_MESSAGE = "I/O error on GET request for \"http://id.internal/check?token=s3cr3t\"";

    @Test
    void readTimeoutUnderSpringsWrapperIsATimeout() {
        assertThat(BackendFailures.isTimeout(new ResourceAccessException(SPRING_MESSAGE,
                new HttpTimeoutException("request timed out")))).isTrue();
    }

    @Test
    void connectTimeoutAndSocketTimeoutDeeperDownAreTimeoutsToo() {
        assertThat(BackendFailures.isTimeout(new ResourceAccessException(SPRING_MESSAGE,
                new IOException("wrapped", new HttpConnectTimeoutException("connect timed out"))))).isTrue();
        assertThat(BackendFailures.isTimeout(new IOException(new SocketTimeoutException("Read timed out")))).isTrue();
    }

    @Test
    void refusedConnectionIsNotATimeout() {
        assertThat(BackendFailures.isTimeout(new ResourceAccessException(SPRING_MESSAGE, new ConnectException("Connection refused"))))
                .isFalse();
    }

    @Test
    void interruptionWrappedByTheJdkClientAndSpringIsAnInterruption() {
        assertThat(BackendFailures.isInterrupted(new ResourceAccessException(SPRING_MESSAGE,
                new IOException("Request was interrupted", new InterruptedException())))).isTrue();
        assertThat(BackendFailures.isInterrupted(new ResourceAccessException(SPRING_MESSAGE, new ConnectException("Connection refused"))))
                .isFalse();
    }

    @Test
    void onlyFailuresThatSayTheBackendIsUnavailableCountAgainstIt() {
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.status(500))).isTrue();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.status(429))).isTrue();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.of(BackendFailure.Kind.UNREACHABLE, "refused"))).isTrue();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.of(BackendFailure.Kind.TIMEOUT, "slow"))).isTrue();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.status(404))).isFalse();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.status(302))).isFalse();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.unusable("not JSON"))).isFalse();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.of(BackendFailure.Kind.TOO_LARGE, "1MB"))).isFalse();
        assertThat(BackendFailures.countsAgainstTheBackend(BackendFailure.of(BackendFailure.Kind.INTERRUPTED, "stopped"))).isFalse();
        assertThat(BackendFailures.countsAgainstTheBackend(new IllegalStateException("a bug"))).isFalse();
    }

    @Test
    void aLongDescriptionIsCutWithoutSplittingACharacterInTwo() {
        String description = BackendFailure.unusable("x".repeat(299 - "unusable answer: ".length()) + "\uD83D\uDE00" + "tail").getMessage();

        assertThat(description).doesNotContain("\uD83D").doesNotContain("tail").endsWith("x...");
        assertThat(description.codePoints().noneMatch(c -> Character.isSurrogate((char) c))).isTrue();
    }
}
