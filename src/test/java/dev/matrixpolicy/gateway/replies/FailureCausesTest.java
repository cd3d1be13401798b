package dev.matrixpolicy.gateway.replies;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import org.junit.jupiter.api.Test;

/** The one-line descriptions of a failed call, which name its causes and never the wrapper's message (a URL). */
class FailureCausesTest {
    /** What an HTTP client's wrapper says about a failed request: the URL, with whatever its query string holds. */
    private static final String CLIENTS_MESSAGE = "I/O error on GET request for \"http://id.internal/check?token=s3cr3t\"";

    @Test
    void causesListTheChainUnderTheWrapperOutermostFirstWithoutTheUrl() {
        ConnectException refused = new ConnectException("Connection refused");
        refused.initCause(new ClosedChannelException());

        assertThat(FailureCauses.of(new IOException(CLIENTS_MESSAGE, refused)))
                .isEqualTo("ConnectException (Connection refused) <- ClosedChannelException");
    }

    /** As the JDK's client fails: a refused connection and a name that does not resolve differ only in their causes. */
    @Test
    void aRefusedConnectionAndAnUnknownHostReadApart() {
        assertThat(FailureCauses.of(jdkConnectFailure(new ClosedChannelException())))
                .isEqualTo("ConnectException <- ClosedChannelException");
        assertThat(FailureCauses.of(jdkConnectFailure(new UnresolvedAddressException())))
                .isEqualTo("ConnectException <- UnresolvedAddressException");
    }

    @Test
    void causesStopAfterFour() {
        Throwable deep = new IOException("5", new IOException("6"));
        for (int level = 4; level >= 1; level--) {
            deep = new IOException(String.valueOf(level), deep);
        }

        assertThat(FailureCauses.of(new IOException(CLIENTS_MESSAGE, deep)))
                .isEqualTo("IOException (1) <- IOException (2) <- IOException (3) <- IOException (4)");
    }

    @Test
    void typesNameTheClientsRuntimeFailureWithoutItsMessageWhichMayQuoteAHeader() {
        RuntimeException invalidHeader = new IllegalArgumentException("invalid header value: \"Bearer s3cr3t\"",
                new IllegalStateException("s3cr3t"));

        assertThat(FailureCauses.types(invalidHeader)).isEqualTo("IllegalArgumentException <- IllegalStateException");
    }

    @Test
    void causesOfAFailureWithoutACauseIsItsTypeAlone() {
        assertThat(FailureCauses.of(new IOException(CLIENTS_MESSAGE))).isEqualTo("IOException");
    }

    /** {@code ConnectException} (no message) <- {@code ConnectException} (no message) <- the reason. */
    private static ConnectException jdkConnectFailure(Throwable reason) {
        ConnectException inner = new ConnectException();
        inner.initCause(reason);
        ConnectException outer = new ConnectException();
        outer.initCause(inner);
        return outer;
    }
}
