package dev.matrixpolicy.gateway.module;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.springframework.http.HttpMethod;

/**
 * One request a module sends its {@link Backend}. Its reply is asked for as JSON; a body is sent as
 * JSON.
 *
 * @param callback what the request is for, for the WARN line and its {@code callback} key: the
 *                 Synapse callback's name, e.g. {@code user_may_invite}
 * @param method   {@code GET} or {@code POST}
 * @param uri      where to; never logged
 * @param body     the JSON body, if any
 * @param timeout  how long each attempt waits for the reply (the read timeout)
 * @param retried  whether the backend's {@link RetryPolicy} applies; a notification, which the
 *                 backend may have acted on although its answer was lost, is sent {@linkplain #once once}
 */
public record BackendRequest(String callback, HttpMethod method, URI uri, Optional<byte[]> body, Duration timeout,
                             boolean retried) {
    public BackendRequest {
        Objects.requireNonNull(callback, "callback");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** A {@code GET}, retried by the backend's policy. */
    public static BackendRequest get(String callback, URI uri, Duration timeout) {
        return new BackendRequest(callback, HttpMethod.GET, uri, Optional.empty(), timeout, true);
    }

    /** A {@code POST} of a JSON body, retried by the backend's policy. */
    public static BackendRequest post(String callback, URI uri, byte[] json, Duration timeout) {
        return new BackendRequest(callback, HttpMethod.POST, uri, Optional.of(json), timeout, true);
    }

    /** The same request, sent once whatever the backend's retry policy. */
    public BackendRequest once() {
        return new BackendRequest(callback, method, uri, body, timeout, false);
    }

    /** Never the URI or the body: either may hold a secret or personal data. */
    @Override
    public String toString() {
        return "BackendRequest[" + callback + ", " + method + ", timeout " + timeout + (retried ? "" : ", once") + "]";
    }
}
