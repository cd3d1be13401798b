package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.policyserver.RequestAuthenticator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/** The policy server's servlet on its own, where a test can give it a budget small enough to fill. */
class PolicyServerServletTest {
    @Test
    void aRequestsBodyCountsAgainstTheBudgetOnlyUntilItIsAnswered() throws Exception {
        RequestAuthenticator noKeys = new RequestAuthenticator("policy.example.org",
                (server, keyId, validUntil, wait) -> Optional.empty(), () -> Instant.EPOCH);
        PolicyServerServlet servlet = new PolicyServerServlet("policy.example.org", PolicyServerKey.fromSeed(new byte[32]), noKeys,
                null, null, null, JsonMapper.builder().build(), new SimpleMeterRegistry(), new RequestBodyReader.Budget(1_000, true));

        for (int i = 0; i < 5; i++) {
            MockHttpServletResponse answer = new MockHttpServletResponse();
            servlet.service(signRequestOf(600), answer);
            assertThat(answer.getStatus()).as("request %d: refused for its signature, not for the budget", i).isEqualTo(401);
        }
    }

    @Test
    void aMethodAnEndpointDoesNotTakeIs405NamingTheOnesItDoes() throws Exception {
        PolicyServerServlet servlet = new PolicyServerServlet("policy.example.org", PolicyServerKey.fromSeed(new byte[32]),
                null, null, null, null, JsonMapper.builder().build(), new SimpleMeterRegistry());

        MockHttpServletResponse sign = answer(servlet, "GET", PolicyServerServlet.SIGN);
        MockHttpServletResponse wellKnown = answer(servlet, "POST", PolicyServerServlet.WELL_KNOWN);

        assertThat(sign.getStatus()).isEqualTo(405);
        assertThat(sign.getHeader("Allow")).isEqualTo("POST, OPTIONS");
        assertThat(sign.getContentType()).isEqualTo("application/json");
        assertThat(sign.getContentAsString()).isEqualTo("{\"errcode\":\"M_UNRECOGNIZED\",\"error\":\"Method GET is not supported here\"}");
        assertThat(wellKnown.getStatus()).isEqualTo(405);
        assertThat(wellKnown.getHeader("Allow")).isEqualTo("GET, HEAD, OPTIONS");
        assertThat(wellKnown.getHeader("Access-Control-Allow-Origin")).isEqualTo("*");
    }

    private static MockHttpServletResponse answer(PolicyServerServlet servlet, String method, String path) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest(method, path);
        request.setServletPath(path);
        MockHttpServletResponse answer = new MockHttpServletResponse();
        servlet.service(request, answer);
        return answer;
    }

    /** A sign request with a body of {@code bytes} bytes, whose X-Matrix signature names a server with no keys. */
    private static MockHttpServletRequest signRequestOf(int bytes) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", PolicyServerServlet.SIGN);
        request.setServletPath(PolicyServerServlet.SIGN);
        String padding = "x".repeat(bytes - 20);
        request.setContent(("{\"padding\": \"" + padding + "\"}").getBytes(StandardCharsets.UTF_8));
        request.setContentType("application/json");
        request.addHeader("Authorization",
                "X-Matrix origin=\"hs.example\",destination=\"policy.example.org\",key=\"ed25519:a\",sig=\"AAAA\"");
        return request;
    }
}
