package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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
        return status(authorization, "203.0.113.9");
    }

    private int status(String authorization, String peer) throws Exception {
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request("/actuator/decisions", authorization, peer), response, new MockFilterChain());
        return response.getStatus();
    }

    private static MockHttpServletRequest request(String path, String authorization, String peer) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", path);
        request.setServletPath(path);
        request.setAttribute(PeerAddressValve.ATTRIBUTE, peer);
        if (authorization != null) {
            request.addHeader("Authorization", authorization);
        }
        return request;
    }

    @Test
    void eachGuessingAddressIsNamedWhateverOthersGuessAndAGuessAtHealthsDetailsCountsToo() throws Exception {
        status("Bearer first", "203.0.113.9");
        status("Bearer second", "198.51.100.7");
        new HealthDetailsAccess(filter).doFilter(request("/actuator/health", "Bearer third", "192.0.2.44"),
                new MockHttpServletResponse(), new MockFilterChain());
        new HealthDetailsAccess(filter).doFilter(request("/actuator/health", null, "192.0.2.45"),
                new MockHttpServletResponse(), new MockFilterChain());

        assertThat(lines.at(Level.WARN)).hasSize(3).anySatisfy(line -> assertThat(line).contains("from 198.51.100.7"))
                .anySatisfy(line -> assertThat(line).contains("from 192.0.2.44 to \"/actuator/health\""));
        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "wrong_credential").count()).isEqualTo(3);
        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "no_credential").count()).as("a probe's").isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBasicHeaders")
    void aMalformedBasicHeaderIsRefusedAsMalformedNotMissingAndNeverEchoed(String what, String header, String secret) throws Exception {
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request("/actuator/decisions", header, "203.0.113.9"), response, new MockFilterChain());

        assertThat(response.getStatus()).isEqualTo(401);
        assertThat(response.getHeader("WWW-Authenticate")).isEqualTo(AdminAccessFilter.REALM);
        assertThat(response.getContentAsString()).contains("\"errcode\":\"M_UNKNOWN_TOKEN\"").contains("Malformed Authorization header")
                .doesNotContain(secret);
        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "malformed_credential").count()).isOne();
        assertThat(lines.at(Level.WARN)).singleElement().asString().contains("malformed").doesNotContain(secret);
    }

    static Stream<Arguments> malformedBasicHeaders() {
        Base64.Encoder base64 = Base64.getEncoder();
        byte[] notUtf8 = "admin:admin-s3cr\u00e9t".getBytes(StandardCharsets.ISO_8859_1); // a lone 0xE9
        return Stream.of(Arguments.of("not base64", "Basic admin-s3cret!", "admin-s3cret"),
                Arguments.of("no colon", "Basic " + base64.encodeToString("admin-s3cret".getBytes(StandardCharsets.UTF_8)), "admin-s3cret"),
                Arguments.of("not UTF-8", "Basic " + base64.encodeToString(notUtf8), "admin-s3cr"),
                Arguments.of("empty", "Basic ", "Admin token required"));
    }

    @Test
    void wellFormedBasicCredentialsAreReadAsBefore() throws Exception {
        Base64.Encoder base64 = Base64.getEncoder();
        assertThat(status("Basic " + base64.encodeToString("anyone:admin-s3cret".getBytes(StandardCharsets.UTF_8)))).isEqualTo(200);
        assertThat(status("Basic " + base64.encodeToString(":admin-s3cret".getBytes(StandardCharsets.UTF_8)))).isEqualTo(200);
        assertThat(status("Basic " + base64.encodeToString("anyone:wrong".getBytes(StandardCharsets.UTF_8)))).isEqualTo(401);
        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "wrong_credential").count()).isOne();
    }

    /** A page of another site posting with a cached Basic login is refused whatever it sends, and counted like any refusal. */
    @Test
    void aPostFromAnotherSitesPageIsCountedAndWarnedOfNamingTheCallersAddress() throws Exception {
        MockHttpServletRequest request = request("/actuator/decisions", "Bearer admin-s3cret", "203.0.113.9");
        request.setMethod("POST");
        request.addHeader("Sec-Fetch-Site", "cross-site");
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request, response, new MockFilterChain());

        assertThat(response.getStatus()).isEqualTo(403);
        assertThat(registry.counter(AdminAccessFilter.REFUSALS, "reason", "from_another_site").count()).isOne();
        assertThat(lines.at(Level.WARN)).singleElement().asString()
                .contains("from 203.0.113.9 to \"/actuator/decisions\"").contains("page of another site");
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
