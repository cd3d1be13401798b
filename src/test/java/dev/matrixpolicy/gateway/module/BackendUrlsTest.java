package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** An endpoint's URL under a configured base URL. */
class BackendUrlsTest {

    @Test
    void endpointPathGoesBeforeTheBaseUrlsQueryString() {
        assertThat(BackendUrls.endpoint(URI.create("https://svc.internal/v1?key=k%26x&b=2"), "spam_checker/user_may_invite"))
                .isEqualTo(URI.create("https://svc.internal/v1/spam_checker/user_may_invite?key=k%26x&b=2"));
    }

    @Test
    void trailingSlashOfTheBasePathIsNotDoubled() {
        assertThat(BackendUrls.endpoint(URI.create("http://svc:8000/v1/"), "a/b")).isEqualTo(URI.create("http://svc:8000/v1/a/b"));
        assertThat(BackendUrls.endpoint(URI.create("http://svc:8000"), "a/b")).isEqualTo(URI.create("http://svc:8000/a/b"));
        assertThat(BackendUrls.endpoint(URI.create("http://svc:8000/?k=v"), "a/b")).isEqualTo(URI.create("http://svc:8000/a/b?k=v"));
    }
}
