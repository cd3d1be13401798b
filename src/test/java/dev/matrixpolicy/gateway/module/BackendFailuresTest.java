package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClientException;

/** Which failed backend calls are timeouts or interruptions, and the one-line descriptions that never quote Spring's URL. */
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
    void causesListTheChainUnderTheWrapperOutermostFirstWithoutTheUrl() {
        ConnectException refused = new ConnectException("Connection refused");
        refused.initCause(new ClosedChannelException());

        assertThat(BackendFailures.causes(new ResourceAccessException(SPRING_MESSAGE, refused)))
                .isEqualTo("ConnectException (Connection refused) <- ClosedChannelException");
    }

    @Test
    void causesStopAfterFour() {
        Throwable deep = new IOException("5", new IOException("6"));
        for (int level = 4; level >= 1; level--) {
            deep = new IOException(String.valueOf(level), deep);
        }

        assertThat(BackendFailures.causes(new RestClientException(SPRING_MESSAGE, deep)))
                .isEqualTo("IOException (1) <- IOException (2) <- IOException (3) <- IOException (4)");
    }

    @Test
    void typesNameTheClientsRuntimeFailureWithoutItsMessageWhichMayQuoteAHeader() {
        RuntimeException invalidHeader = new IllegalArgumentException("invalid header value: \"Bearer s3cr3t\"",
                new IllegalStateException("s3cr3t"));

        assertThat(BackendFailures.types(invalidHeader)).isEqualTo("IllegalArgumentException <- IllegalStateException");
    }

    @Test
    void aLongDescriptionIsCutWithoutSplittingACharacterInTwo() {
        String description = BackendFailure.unusable("x".repeat(299 - "unusable answer: ".length()) + "\uD83D\uDE00" + "tail").getMessage();

        assertThat(description).doesNotContain("\uD83D").doesNotContain("tail").endsWith("x...");
        assertThat(description.codePoints().noneMatch(c -> Character.isSurrogate((char) c))).isTrue();
    }

    @Test
    void causesOfAFailureWithoutACauseIsItsTypeAlone() {
        assertThat(BackendFailures.causes(new RestClientException(SPRING_MESSAGE))).isEqualTo("RestClientException");
    }
}
