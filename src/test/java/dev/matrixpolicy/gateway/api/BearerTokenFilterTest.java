package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;

import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.config.Generation;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties.Auth;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties.Defaults;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.util.unit.DataSize;

/**
 * The token sources and the no-token mode, which a real client on loopback cannot exercise:
 * a caller from another address is simulated here.
 */
class BearerTokenFilterTest {
    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(BearerTokenFilter.class, Level.WARN);

    @TempDir
    Path secrets;

    private final MeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void tokenFileIsReadOnceWithSurroundingWhiteSpaceIgnored() throws Exception {
        Path file = Files.writeString(secrets.resolve("token"), "  s3cret-from-a-secret\n");
        BearerTokenFilter filter = filter(new Auth(null, file));

        assertThat(status(filter, "Bearer s3cret-from-a-secret", "10.1.2.3")).isEqualTo(200);
        assertThat(status(filter, "Bearer s3cret-from-a-secret\n", "10.1.2.3")).isEqualTo(200);
        assertThat(status(filter, "Bearer other", "10.1.2.3")).isEqualTo(401);
    }

    /** A rotation: the new token added on a line of its own, the callers moved over, then the old one removed. */
    @Test
    void everyLineOfTheTokenFileIsATokenCallersMayPresent() throws Exception {
        Path file = Files.writeString(secrets.resolve("tokens"), "new-token-0123456789\n\n  old-token-9876543210  \n");
        BearerTokenFilter filter = filter(new Auth(null, file));

        assertThat(status(filter, "Bearer new-token-0123456789", "10.1.2.3")).isEqualTo(200);
        assertThat(status(filter, "Bearer old-token-9876543210", "10.1.2.3")).isEqualTo(200);
        assertThat(status(filter, "Bearer new-token-0123456789\nold-token-9876543210", "10.1.2.3")).isEqualTo(401);
        assertThat(status(filter, "Bearer ", "10.1.2.3")).isEqualTo(401);
    }

    @Test
    void aTokenNoHeaderCanCarryStopsStartupWithoutQuotingIt() throws Exception {
        Path file = Files.writeString(secrets.resolve("tab"), "half\tother-half\n");

        assertThatThrownBy(() -> filter(new Auth(null, file)))
                .hasMessageContaining("control character")
                .satisfies(failure -> assertThat(String.valueOf(failure.getMessage())).doesNotContain("other-half"));
    }

    @Test
    void bearerSchemeIsCaseInsensitive() {
        BearerTokenFilter filter = filter(new Auth("tok", null));

        assertThat(status(filter, "bearer tok", "10.1.2.3")).isEqualTo(200);
        assertThat(status(filter, "Basic dG9rOg==", "10.1.2.3")).isEqualTo(401);
    }

    @Test
    void emptyTokenFileStopsStartup() throws Exception {
        Path file = Files.writeString(secrets.resolve("empty"), "\n");

        assertThatThrownBy(() -> filter(new Auth(null, file)))
                .hasMessageContaining("is empty");
    }

    @Test
    void withoutATokenOnlyLoopbackCallersAreAnswered() {
        BearerTokenFilter filter = filter(new Auth("", null));

        assertThat(status(filter, null, "127.0.0.1")).isEqualTo(200);
        assertThat(status(filter, null, "0:0:0:0:0:0:0:1")).isEqualTo(200);
        assertThat(status(filter, null, "192.0.2.10")).isEqualTo(403);
    }

    /** Istio's sidecar hands on other pods' connections from 127.0.0.6: loopback, but not this machine's callers. */
    @Test
    void withoutATokenOnly127001AndColonColon1CountAsThisMachineNotTheRestOf127Slash8() {
        BearerTokenFilter filter = filter(new Auth("", null));

        assertThat(status(filter, null, "127.0.0.6")).isEqualTo(403);
        assertThat(status(filter, null, "127.1.2.3")).isEqualTo(403);
        assertThat(status(filter, null, "::1")).isEqualTo(200);
    }

    /** Tomcat's RemoteIpValve rewrites the remote address from X-Forwarded-For; the connection's peer stays what it is. */
    @Test
    void withoutATokenTheConnectionsPeerDecidesNeverTheForwardedRemoteAddress() {
        BearerTokenFilter filter = filter(new Auth("", null));

        assertThat(status(filter, call(null, "127.0.0.1").peer("10.1.2.3"))).isEqualTo(403);
        assertThat(status(filter, call(null, "10.1.2.3").peer("127.0.0.1"))).isEqualTo(200);
    }

    @Test
    void withoutATokenACallerWhosePeerAddressIsUnknownIsRefused() {
        BearerTokenFilter filter = filter(new Auth("", null));

        assertThat(status(filter, call(null, "127.0.0.1").peer(null))).isEqualTo(403);
    }

    @Test
    void refusalsArePlainTextNeverMatrixJson() throws Exception {
        BearerTokenFilter filter = filter(new Auth("tok", null));
        MockHttpServletResponse response = call(filter, "Bearer nope", "10.1.2.3");

        assertThat(response.getContentType()).startsWith("text/plain");
        assertThat(response.getContentAsString()).doesNotContain("errcode");
        assertThat(response.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
    }

    @Test
    void actuatorAndErrorPathsAreNotGuarded() {
        BearerTokenFilter filter = filter(new Auth("tok", null));
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/error");

        assertThat(filter.shouldNotFilter(request)).isTrue();
    }

    @Test
    void pathsAreJudgedAsTheContainerRoutesThemNotByTheRawUri() {
        BearerTokenFilter filter = filter(new Auth("tok", null));
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/v1;x=y/callbacks");
        request.setServletPath("/v1/callbacks");

        assertThat(filter.shouldNotFilter(request)).isFalse();
    }

    @Test
    void refusalsAreCountedByStatus() {
        BearerTokenFilter filter = filter(new Auth("tok", null));

        status(filter, "Bearer nope", "10.1.2.3");
        status(filter, null, "10.1.2.3");

        assertThat(registry.get(RequestErrors.NAME).tag("status", "401").tag("errcode", "none").counter().count()).isEqualTo(2);
    }

    /** Only the homeserver calls the API: a refusal is a module with an old token or none, or a stranger. */
    @Test
    void refusedCallersAreWarnedOfOnceATenSecondsForEachAddressWithoutTheTokensTheyPresented() {
        BearerTokenFilter filter = filter(new Auth("tok", null));

        for (int guess = 0; guess < 50; guess++) {
            assertThat(status(filter, "Bearer guess-" + guess, "10.1.2.3")).isEqualTo(401);
        }
        assertThat(status(filter, null, "10.1.2.3")).isEqualTo(401);
        assertThat(status(filter, null, "192.0.2.7")).isEqualTo(401);
        assertThat(status(filter, "Bearer tok", "10.1.2.3")).isEqualTo(200);

        assertThat(lines.at(Level.WARN)).hasSize(2)
                .anySatisfy(line -> assertThat(line)
                        .contains("from 10.1.2.3 to \"/v1/spam_checker/user_may_invite\" presented a wrong bearer token")
                        .contains("policy-gateway.auth.token"))
                .anySatisfy(line -> assertThat(line).contains("from 192.0.2.7").contains("presented no bearer token"))
                .allSatisfy(line -> assertThat(line).doesNotContain("guess"));
    }

    /** A client rotating its address through an IPv6 prefix cannot write a WARN line for each request. */
    @Test
    void refusalsFromEverChangingAddressesAreAtMostTwentyWarningsATenSeconds() {
        BearerTokenFilter filter = filter(new Auth("tok", null));

        for (int address = 0; address < 500; address++) {
            assertThat(status(filter, "Bearer guess", "2001:db8::" + Integer.toHexString(address))).isEqualTo(401);
        }

        assertThat(lines.at(Level.WARN)).hasSize(20);
    }

    @Test
    void withoutATokenARefusedCallerFromAnotherMachineIsWarnedOfWithTheSettingThatWouldAdmitIt() {
        BearerTokenFilter filter = filter(new Auth("", null));

        assertThat(status(filter, null, "192.0.2.10")).isEqualTo(403);

        assertThat(lines.at(Level.WARN)).containsExactly(
                "No policy-gateway.auth.token or token-file is configured: answering loopback callers only",
                "API access refused: a request from 192.0.2.10 to \"/v1/spam_checker/user_may_invite\" came from another"
                        + " machine, and without policy-gateway.auth.token (or token-file) the gateway answers loopback callers only");
    }

    @Test
    void aPostFromAnotherSitesPageIsWarnedOfAndCountedAsAPlainTextRefusal() {
        BearerTokenFilter filter = filter(new Auth("tok", null));
        Call call = call("Bearer tok", "192.0.2.11");
        call.request().addHeader("Origin", "https://evil.example");

        assertThat(status(filter, call)).isEqualTo(403);

        assertThat(lines.at(Level.WARN)).singleElement().asString()
                .contains("from 192.0.2.11 to \"/v1/spam_checker/user_may_invite\"").contains("page of another site");
        assertThat(registry.counter(RequestErrors.NAME, "status", "403", "errcode", RequestErrors.PLAIN_TEXT).count()).isOne();
    }

    private BearerTokenFilter filter(Auth auth) {
        PolicyGatewayProperties properties = properties(auth);
        Generation generation = new Generation(1, properties, List.of(),
                new CallbackChains(List.of(), new ChainRunner(ChainObserver.NONE)), auth.sharedToken(), Optional.empty(), Instant.EPOCH);
        return new BearerTokenFilter(new Generations(generation, new InstanceMeters(registry)), new RequestErrors(registry));
    }

    private static PolicyGatewayProperties properties(Auth auth) {
        return new PolicyGatewayProperties("example.com", auth, new PolicyGatewayProperties.Admin(null, null),
                new PolicyGatewayProperties.DecisionLog(100), new Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)),
                DataSize.ofMegabytes(1), List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
    }

    private static int status(BearerTokenFilter filter, String authorization, String remoteAddress) {
        return status(filter, call(authorization, remoteAddress));
    }

    private static MockHttpServletResponse call(BearerTokenFilter filter, String authorization, String remoteAddress) {
        return call(authorization, remoteAddress).through(filter);
    }

    private static int status(BearerTokenFilter filter, Call call) {
        return call.through(filter).getStatus();
    }

    /** A request straight from {@code remoteAddress}: the connection's peer address is the same. */
    private static Call call(String authorization, String remoteAddress) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/user_may_invite");
        // As the container maps it to the policy API servlet's /v1/spam_checker/* pattern.
        request.setServletPath("/v1/spam_checker");
        request.setPathInfo("/user_may_invite");
        request.setRemoteAddr(remoteAddress);
        if (authorization != null) {
            request.addHeader("Authorization", authorization);
        }
        return new Call(request).peer(remoteAddress);
    }

    private record Call(MockHttpServletRequest request) {
        /** The connection's peer address as {@link PeerAddressValve} records it, or none. */
        Call peer(String address) {
            request.setAttribute(PeerAddressValve.ATTRIBUTE, address);
            return this;
        }

        MockHttpServletResponse through(BearerTokenFilter filter) {
            MockHttpServletResponse response = new MockHttpServletResponse();
            try {
                filter.doFilter(request, response, new MockFilterChain());
            } catch (Exception unexpected) {
                throw new AssertionError(unexpected);
            }
            return response;
        }
    }
}
