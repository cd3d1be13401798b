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

    /**
     * Once the origin's keys are in hand the body's tree is built and held until the answer (through
     * key fetches for the event's signatures and the chain): its estimate is taken from the budget
     * first, so a server's burst of events of empty objects, some thirty times their bytes as trees,
     * is refused 503 rather than built, and what fits is given back with the answer.
     */
    @Test
    void aBodysTreeIsCountedAgainstTheBudgetBeforeItIsBuiltOnceTheOriginsKeysAreInHand() throws Exception {
        RequestAuthenticator keysInHand = new RequestAuthenticator("policy.example.org",
                (server, keyId, validUntil, wait) -> Optional.of(new byte[32]), () -> Instant.EPOCH);
        RequestBodyReader.Budget budget = new RequestBodyReader.Budget(10_000, true);
        PolicyServerServlet servlet = new PolicyServerServlet("policy.example.org", PolicyServerKey.fromSeed(new byte[32]), keysInHand,
                null, null, null, JsonMapper.builder().build(), new SimpleMeterRegistry(), budget);

        MockHttpServletResponse emptyObjects = new MockHttpServletResponse();
        servlet.service(signRequestWith("{\"content\": [" + "{},".repeat(100) + "{}]}"), emptyObjects);
        MockHttpServletResponse realistic = new MockHttpServletResponse();
        servlet.service(signRequestOf(600), realistic);

        assertThat(emptyObjects.getStatus()).as("405 bytes, their tree estimated at more than the budget").isEqualTo(503);
        assertThat(emptyObjects.getContentAsString()).contains("M_UNKNOWN", "Too many request bodies are being answered at once");
        assertThat(realistic.getStatus()).as("built, then refused for its signature").isEqualTo(401);
        assertThat(budget.held()).isZero();
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

    /** A sign request with a body of {@code bytes} bytes, whose X-Matrix signature is not the origin's. */
    private static MockHttpServletRequest signRequestOf(int bytes) {
        return signRequestWith("{\"padding\": \"" + "x".repeat(bytes - 20) + "\"}");
    }

    /** A sign request with this body, whose X-Matrix signature is not the origin's. */
    private static MockHttpServletRequest signRequestWith(String body) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", PolicyServerServlet.SIGN);
        request.setServletPath(PolicyServerServlet.SIGN);
        request.setContent(body.getBytes(StandardCharsets.UTF_8));
        request.setContentType("application/json");
        request.addHeader("Authorization",
                "X-Matrix origin=\"hs.example\",destination=\"policy.example.org\",key=\"ed25519:a\",sig=\"AAAA\"");
        return request;
    }
}
