package dev.matrixpolicy.gateway.modules.threepidchecker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static dev.matrixpolicy.gateway.support.Ports.unusedPort;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Is3pidAllowed;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.WorstCase;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.util.unit.DataSize;

/** One checker against a real local HTTP backend (WireMock): the wire format, the cache, failures. */
@ExtendWith(ExpectedOutput.class)
class ThreepidCheckerTest {
    private static final String ALLOW = "{\"hs\": \"example.com\"}";
    /** Generous, so that a loaded machine never turns an ordinary answer into a timeout. */
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @RegisterExtension
    static final WireMockExtension backend = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<ThreepidChecker> opened = new ArrayList<>();

    @AfterEach
    void closeCheckers() {
        opened.forEach(ThreepidChecker::close);
    }

    @Test
    void asksTheBackendWithMediumAndAddressAndAllowsWhenItNamesOurServer() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));

        assertThat(checker(url("/check")).is3pidAllowed(email("alice@example.org", false))).isTrue();
        backend.verify(getRequestedFor(urlEqualTo("/check?medium=email&address=alice%40example.org"))
                .withHeader("Accept", equalTo("application/json")));
    }

    @Test
    void deniesWhenTheBackendNamesAnotherServer() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson("{\"hs\": \"matrix.org\"}")));

        assertThat(checker(url("/check")).is3pidAllowed(email("alice@example.org", true))).isFalse();
    }

    @Test
    void deniesWhenAnInviteIsRequiredAndNoneIsPending() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson("{\"hs\": \"example.com\", \"requires_invite\": true}")));

        assertThat(checker(url("/check")).is3pidAllowed(email("alice@example.org", true))).isFalse();
    }

    @Test
    void addressWithPlusAtSpaceAndNonAsciiReachesTheBackendExactly() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));
        String address = "zoë+tag @bücher.example";

        assertThat(checker(url("/check")).is3pidAllowed(email(address, true))).isTrue();
        backend.verify(getRequestedFor(urlPathEqualTo("/check"))
                .withQueryParam("medium", equalTo("email"))
                .withQueryParam("address", equalTo(address)));
        backend.verify(getRequestedFor(urlEqualTo("/check?medium=email&address=zo%C3%AB%2Btag+%40b%C3%BCcher.example")));
    }

    @Test
    void phoneNumberWithLeadingPlusIsNotReadAsASpace() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));

        checker(url("/check")).is3pidAllowed(new Is3pidAllowed.Args("msisdn", "+447700900123", true));

        backend.verify(getRequestedFor(urlPathEqualTo("/check"))
                .withQueryParam("medium", equalTo("msisdn"))
                .withQueryParam("address", equalTo("+447700900123")));
    }

    /**
     * A JSON escape carries half a character, and Synapse passes it on: encoded, it would become
     * {@code ?}, so the backend would judge {@code ?@example.org} (and every address alike) instead.
     */
    @ParameterizedTest
    @EnumSource(FailureMode.class)
    void addressHoldingHalfACharacterIsDeniedWithoutAskingTheBackendAboutAnotherAddress(FailureMode mode) {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));
        ThreepidChecker checker = checker(config(url("/check"), false, Duration.ofMinutes(1), mode));

        assertThat(checker.is3pidAllowed(email("\ud800@example.org", true))).isFalse();
        assertThat(checker.is3pidAllowed(new Is3pidAllowed.Args("email\udfff", "alice@example.org", true))).isFalse();
        backend.verify(0, getRequestedFor(urlPathEqualTo("/check")));
    }

    @Test
    void queryStringAlreadyInTheUrlIsKept() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));

        checker(url("/check?realm=staff&key=a%2Fb")).is3pidAllowed(email("alice@example.org", true));

        backend.verify(getRequestedFor(urlEqualTo("/check?realm=staff&key=a%2Fb&medium=email&address=alice%40example.org")));
    }

    @Test
    void onlyCheckAtRegistrationAllowsOtherBindsWithoutAskingAndStillAsksAtRegistration() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson("{\"hs\": \"matrix.org\"}")));
        ThreepidChecker checker = checker(config(url("/check"), true, Duration.ofMinutes(1), FailureMode.FAIL_CLOSED));

        assertThat(checker.is3pidAllowed(email("alice@example.org", false))).isTrue();
        backend.verify(0, getRequestedFor(urlPathEqualTo("/check")));
        assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isFalse();
        backend.verify(1, getRequestedFor(urlPathEqualTo("/check")));
    }

    @Test
    void verdictsAreCachedPer3pidWhateverTheRegistrationFlag() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));
        ThreepidChecker checker = checker(url("/check"));

        checker.is3pidAllowed(email("alice@example.org", true));
        checker.is3pidAllowed(email("alice@example.org", false));
        checker.is3pidAllowed(new Is3pidAllowed.Args("msisdn", "alice@example.org", true));
        checker.is3pidAllowed(email("bob@example.org", true));

        backend.verify(3, getRequestedFor(urlPathEqualTo("/check")));
        assertThat(registry.get("cache.gets").tag("cache", "checker").tag("result", "hit").functionCounter().count()).isEqualTo(1);
        assertThat(registry.get("cache.gets").tag("cache", "checker").tag("result", "miss").functionCounter().count()).isEqualTo(3);
    }

    @Test
    void deniedVerdictsAreCachedToo() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson("{\"hs\": \"matrix.org\"}")));
        ThreepidChecker checker = checker(url("/check"));

        assertThat(checker.is3pidAllowed(email("mallory@example.org", true))).isFalse();
        assertThat(checker.is3pidAllowed(email("mallory@example.org", true))).isFalse();
        backend.verify(1, getRequestedFor(urlPathEqualTo("/check")));
    }

    /**
     * An explanation's request tells the backend to count nothing, so its verdict must not answer the
     * next real check in the backend's place; a verdict already cached answers it, as it would answer
     * the real check. Neither shows in the cache's statistics.
     */
    @Test
    void explanationAnswersFromTheCacheButNeitherFillsItNorCountsInItsStatistics() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));
        ThreepidChecker checker = checker(url("/check"));
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            CallbackEndpoint<Is3pidAllowed.Args, Boolean> endpoint = endpoint(checker, runner);

            assertThat(explained(endpoint.explain(email("alice@example.org", true)))).isEqualTo(true);
            assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isTrue();
            assertThat(explained(endpoint.explain(email("alice@example.org", true)))).isEqualTo(true);
        }

        backend.verify(1, getRequestedFor(urlPathEqualTo("/check")).withHeader(Backend.DRY_RUN_HEADER, equalTo("true")));
        backend.verify(1, getRequestedFor(urlPathEqualTo("/check")).withoutHeader(Backend.DRY_RUN_HEADER));
        assertThat(registry.get("cache.gets").tag("cache", "checker").tag("result", "hit").functionCounter().count()).isZero();
        assertThat(registry.get("cache.gets").tag("cache", "checker").tag("result", "miss").functionCounter().count()).isEqualTo(1);
    }

    @Test
    void zeroCacheTtlAsksEveryTime() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));
        ThreepidChecker checker = checker(config(url("/check"), false, Duration.ZERO, FailureMode.FAIL_CLOSED));

        checker.is3pidAllowed(email("alice@example.org", true));
        checker.is3pidAllowed(email("alice@example.org", true));

        backend.verify(2, getRequestedFor(urlPathEqualTo("/check")));
        assertThat(registry.find("cache.gets").meters()).isEmpty();
    }

    @Test
    void failuresAreNeverCached() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(aResponse().withStatus(503)));
        ThreepidChecker checker = checker(url("/check"));
        assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isFalse();

        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));
        assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isTrue();
        backend.verify(2, getRequestedFor(urlPathEqualTo("/check")));
    }

    @ParameterizedTest
    @EnumSource(FailureMode.class)
    void serverErrorAnswersTheFailureMode(FailureMode mode) {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(aResponse().withStatus(500).withBody("{\"hs\": \"example.com\"}")));

        assertThat(checkerFailing(mode).is3pidAllowed(email("alice@example.org", true))).isEqualTo(mode == FailureMode.FAIL_OPEN);
        assertThat(backendCalls("error")).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(FailureMode.class)
    void slowBackendTimesOutAndAnswersTheFailureMode(FailureMode mode) {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW).withFixedDelay(6_000)));
        ThreepidChecker checker = checker(new ThreepidCheckerConfig(url("/check"), false, Duration.ofMillis(500),
                Duration.ofMinutes(1), 100, Backend.DEFAULT_MAX_REPLY_SIZE, mode));
        long start = System.nanoTime();

        assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isEqualTo(mode == FailureMode.FAIL_OPEN);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("gave up long before the reply").isLessThan(Duration.ofSeconds(5));
        assertThat(backendCalls("timeout")).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(FailureMode.class)
    void downBackendAnswersTheFailureMode(FailureMode mode) {
        ThreepidChecker checker = checker(config("http://127.0.0.1:" + unusedPort() + "/check", false, Duration.ofMinutes(1), mode));

        assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isEqualTo(mode == FailureMode.FAIL_OPEN);
        assertThat(backendCalls("error")).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK"})
    void brokenConnectionFailsClosedByDefault(Fault fault) {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(aResponse().withFault(fault)));

        assertThat(checker(url("/check")).is3pidAllowed(email("alice@example.org", true))).isFalse();
        assertThat(backendCalls("error")).isEqualTo(1);
    }

    @Test
    void unusableRepliesAreFailuresNotVerdicts() {
        ThreepidChecker checker = checkerFailing(FailureMode.FAIL_OPEN);
        List<String> unusable = List.of("not json", "[\"example.com\"]", "{\"hs\": 1}", "{\"hs\": \"example.com\"} trailing",
                "{\"hs\": \"example.com\", \"requires_invite\": \"yes\"}", "");
        for (int i = 0; i < unusable.size(); i++) {
            backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(unusable.get(i))));
            assertThat(checker.is3pidAllowed(email("user" + i + "@example.org", true))).as(unusable.get(i)).isTrue();
        }
        assertThat(backendCalls("error")).isEqualTo(unusable.size());
        assertThat(backendCalls("success")).isZero();
    }

    @Test
    void replyOverTheDefaultLimitIsAFailure() {
        String huge = "{\"hs\": \"example.com\", \"padding\": \"" + "x".repeat(1024 * 1024) + "\"}";
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(huge)));

        assertThat(checker(url("/check")).is3pidAllowed(email("alice@example.org", true))).isFalse();
        assertThat(backendCalls("error")).isEqualTo(1);
    }

    @Test
    void replyOverAConfiguredLimitIsAFailure() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson("{\"hs\": \"example.com\", \"padding\": \"" + "x".repeat(100) + "\"}")));
        ThreepidChecker checker = checker(new ThreepidCheckerConfig(url("/check"), false, TIMEOUT, Duration.ofMinutes(1), 100,
                DataSize.ofBytes(64), FailureMode.FAIL_CLOSED));

        assertThat(checker.is3pidAllowed(email("alice@example.org", true))).isFalse();
        assertThat(backendCalls("error")).isEqualTo(1);
    }

    @Test
    void redirectIsNotFollowed() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(aResponse().withStatus(302).withHeader("Location", url("/elsewhere"))));
        backend.stubFor(get(urlPathEqualTo("/elsewhere")).willReturn(okJson(ALLOW)));

        assertThat(checker(url("/check")).is3pidAllowed(email("alice@example.org", true))).isFalse();
        backend.verify(0, getRequestedFor(urlPathEqualTo("/elsewhere")));
    }

    @Test
    void failureIsOneWarnLineNamingTheModuleAndCauseButNotTheAddressOrUrlSecret(CapturedOutput output) {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(aResponse().withStatus(502)));

        checker(url("/check?token=s3cr3t")).is3pidAllowed(email("private.person@example.org", true));

        List<String> warnings = output.getAll().lines().filter(line -> line.contains("WARN")).toList();
        assertThat(warnings).singleElement().asString()
                .contains("Module checker: is_3pid_allowed failed after 1 attempt (HTTP 502); failing closed: 3PID denied")
                .doesNotContain("private.person").doesNotContain("s3cr3t");
        assertThat(output.getAll()).doesNotContain("\tat ");
    }

    @Test
    void backendCallsAreTimedWithModuleAndOutcomeTags() {
        backend.stubFor(get(urlPathEqualTo("/check")).willReturn(okJson(ALLOW)));

        checker(url("/check")).is3pidAllowed(email("alice@example.org", true));

        assertThat(backendCalls("success")).isEqualTo(1);
        assertThat(backendCalls("error")).isZero();
        assertThat(backendCalls("timeout")).isZero();
    }

    @Test
    void worstCaseIsTheTimeoutTwiceSinceItBoundsConnectingAndTheReplyEach() {
        assertThat(checker(url("/check")).worstCase()).contains(new WorstCase(Duration.ofSeconds(10),
                "timeout 5s to connect + timeout 5s for the reply"));
    }

    private long backendCalls(String outcome) {
        return registry.get("policy.module.backend").tag("module", "checker").tag("outcome", outcome).timer().count();
    }

    @SuppressWarnings("unchecked") // the endpoint of is_3pid_allowed takes and answers its own types
    private static CallbackEndpoint<Is3pidAllowed.Args, Boolean> endpoint(ThreepidChecker checker, ChainRunner runner) {
        ModuleInstance entry = new ModuleInstance(0, "threepid_checker", "checker", checker, FailurePolicy.FAIL_CLOSED,
                Duration.ofSeconds(30));
        return (CallbackEndpoint<Is3pidAllowed.Args, Boolean>) new CallbackChains(List.of(entry), runner)
                .endpoint(Category.PASSWORD_AUTH_PROVIDER, Is3pidAllowed.TYPE.name()).orElseThrow();
    }

    /** The checker's answer in an explanation's one step. */
    private static Object explained(Trace<Boolean> trace) {
        return ((Reply.Answered<?>) trace.steps().getFirst().reply()).answer();
    }

    private static Is3pidAllowed.Args email(String address, boolean registration) {
        return new Is3pidAllowed.Args("email", address, registration);
    }

    private static String url(String path) {
        return backend.baseUrl() + path;
    }

    private static ThreepidCheckerConfig config(String url, boolean onlyAtRegistration, Duration cacheTtl, FailureMode mode) {
        return new ThreepidCheckerConfig(url, onlyAtRegistration, TIMEOUT, cacheTtl, 100, Backend.DEFAULT_MAX_REPLY_SIZE, mode);
    }

    private ThreepidChecker checker(String url) {
        return checker(config(url, false, Duration.ofMinutes(1), FailureMode.FAIL_CLOSED));
    }

    private ThreepidChecker checkerFailing(FailureMode mode) {
        return checker(config(url("/check"), false, Duration.ofMinutes(1), mode));
    }

    private ThreepidChecker checker(ThreepidCheckerConfig config) {
        ThreepidChecker checker = (ThreepidChecker) new ThreepidCheckerModuleType()
                .create(config, new ModuleContext("checker", "example.com", registry));
        opened.add(checker);
        return checker;
    }
}
