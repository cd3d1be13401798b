package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An endpoint's URL under a configured base URL, and what a configured URL is refused for. */
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

    @Test
    void aPortPastWhatAnIntHoldsIsRefusedAsAPortNotAsAMissingHost() {
        for (String url : List.of("http://svc:99999999999/v1", "https://svc.internal:2147483648", "http://10.0.0.1:000012345678901/x")) {
            assertThatThrownBy(() -> BackendUrls.parse("url", url)).as(url).isInstanceOf(ModuleConfigurationException.class)
                    .hasMessageContaining("digits, but a port is 1 to 65535").hasMessageNotContaining("host");
        }
        assertThatThrownBy(() -> BackendUrls.parse("url", "http://svc:70000/")).hasMessageContaining("has port 70000, but a port is 1 to 65535");
        assertThatThrownBy(() -> BackendUrls.parse("url", "http://[::1]:12345678901/")).hasMessageContaining("Malformed port number");
        assertThatThrownBy(() -> BackendUrls.parse("url", "http://threepid_backend:8080/"))
                .hasMessageContaining("has no host name the HTTP client can use");
    }
}
