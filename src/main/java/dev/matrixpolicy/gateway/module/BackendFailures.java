package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.replies.FailureCauses;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.security.cert.CertificateException;

/**
 * The helpers {@link Backend} classifies a failed call with, and describes it in one line of its
 * WARN log by. A {@link org.springframework.web.client.RestClientException}'s own message names the
 * request URL, which may carry a secret (a token in the query string) or user data (a 3PID in a
 * parameter): it is never logged; {@link dev.matrixpolicy.gateway.replies.FailureCauses} names what
 * went wrong under it instead.
 */
public final class BackendFailures {
    private BackendFailures() {
    }

    /**
     * Whether the call failed for want of an answer in time: an {@link HttpTimeoutException} (the JDK
     * client's connect timeout, Spring's read timeout) or a {@link SocketTimeoutException} anywhere
     * among the causes. {@link Backend} also counts as a timeout any read that fails after the
     * request's timeout, since a body cut off at the deadline fails with no such cause.
     */
    public static boolean isTimeout(Throwable failure) {
        return FailureCauses.include(failure, HttpTimeoutException.class, SocketTimeoutException.class);
    }

    /**
     * Whether the call failed because its thread was interrupted: an {@link InterruptedException}
     * anywhere among the causes (the JDK client wraps it in an {@code IOException}).
     */
    public static boolean isInterrupted(Throwable failure) {
        return FailureCauses.include(failure, InterruptedException.class);
    }

    /**
     * Whether the TLS handshake refused the backend's certificate: a {@link CertificateException}
     * anywhere among the causes (the JDK's {@code PKIX path building failed}, an expired
     * certificate, or one for another name). A handshake broken off by the network is not one.
     */
    static boolean isCertificateRefused(Throwable failure) {
        return FailureCauses.include(failure, CertificateException.class);
    }

    /**
     * Whether a circuit breaker should count the exception as a failure of the backend: a
     * {@link BackendFailure} that says the backend is unavailable now, the ones another attempt may
     * fix ({@link BackendFailure#retryable()}: unreachable, a timeout, 5xx, 408, 429) and a refused
     * certificate. A 404, a 3xx, an unusable or oversized reply says the request or the contract is
     * wrong, not that the service is down: counting it would let one misrouted callback (a
     * notification answered 404) open the breaker for every callback of the instance. An
     * interruption is the caller giving up, and anything else a bug of the module; neither says
     * anything about the backend.
     */
    public static boolean countsAgainstTheBackend(Throwable failure) {
        return failure instanceof BackendFailure backend && backend.saysTheBackendIsUnavailable();
    }
}
