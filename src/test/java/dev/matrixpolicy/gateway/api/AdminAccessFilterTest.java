package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/** What the admin paths make of a caller they refuse: counted always, a wrong token logged. */
class AdminAccessFilterTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AdminAccessFilter filter = new AdminAccessFilter(() -> Optional.of("admin-s3cret"), "/actuator",
            List.of("/actuator/decisions"), JsonMapper.builder().build(), registry);
    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(AdminAccessFilter.class, Level.WARN);

    private int status(String authorization) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/actuator/decisions");
        request.setServletPath("/actuator/decisions");
        request.setAttribute(PeerAddressValve.ATTRIBUTE, "203.0.113.9");
        if (authorization != null) {
            request.addHeader("Authorization", authorization);
        }
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request, response, new MockFilterChain());
        return response.getStatus();
    }

    @Test
    void wrongTokensAreCountedAndWarnedOfOnceATenSecondsNamingTheCallersAddress() throws Exception {
        for (int guess = 0; guess < 100; guess++) {
            assertThat(status("Bearer guess-" + guess)).isEqualTo(401);
        }
        assertThat(status(null)).isEqualTo(401);
        assertThat(status("Bearer admin-s3cret")).isEqualTo(200);

        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "wrong_credential").count()).isEqualTo(100);
        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "no_credential").count()).isEqualTo(1);
        assertThat(lines.at(Level.WARN))
                .singleElement().asString().contains("from 203.0.113.9 to \"/actuator/decisions\"").contains("wrong admin token")
                .doesNotContain("guess");
    }
}
