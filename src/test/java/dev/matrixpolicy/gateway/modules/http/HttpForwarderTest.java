package dev.matrixpolicy.gateway.modules.http;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Check3pidAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.ModuleConfigs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.system.CapturedOutput;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** One http module against a real local service (WireMock): replies, their limit, retries and the WARN line. */
@ExtendWith(ExpectedOutput.class)
class HttpForwarderTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String INVITE = "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}";
    private static final String PATH = "/policy/spam_checker/user_may_invite";

    @RegisterExtension
    static final WireMockExtension service = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<HttpForwarder> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(HttpForwarder::close);
    }

    @Test
    void replyOverTheDefaultLimitIsABackendFailureThatIsNotRetriedAndOneWarnLineNamesTheLimitNotTheUrl(CapturedOutput output) {
        service.stubFor(post(PATH).willReturn(okJson("{\"result\": \"NOT_SPAM\", \"padding\": \"" + "x".repeat(1024 * 1024) + "\"}")));

        SpamVerdict answer = invite(forwarder(Map.of("token", "s3cr3t")));

        assertThat(answer).isEqualTo(FailureAnswers.UNAVAILABLE);
        service.verify(1, postRequestedFor(urlEqualTo(PATH)));
        assertThat(backendCalls("error")).isEqualTo(1);
        assertThat(warnings(output)).singleElement().asString()
                .contains("Module policy: user_may_invite failed after 1 attempt").contains("max-reply-size 1MB")
                .doesNotContain("s3cr3t").doesNotContain(service.baseUrl()).doesNotContain("/policy");
    }

    @Test
    void replyUnderAConfiguredLimitIsAnswered() {
        service.stubFor(post(PATH).willReturn(okJson("{\"result\": \"NOT_SPAM\", \"padding\": \"" + "x".repeat(2 * 1024 * 1024) + "\"}")));

        assertThat(invite(forwarder(Map.of("max-reply-size", "4MB")))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void replyOverAConfiguredLimitIsAFailure() {
        service.stubFor(post(PATH).willReturn(okJson("{\"result\": \"NOT_SPAM\", \"padding\": \"" + "x".repeat(2048) + "\"}")));

        assertThat(invite(forwarder(Map.of("max-reply-size", "1KB")))).isEqualTo(FailureAnswers.UNAVAILABLE);
    }

    @Test
    void queryStringOfTheUrlIsKeptAfterTheCallbacksPath() {
        service.stubFor(post(PATH + "?key=k").willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));

        assertThat(invite(forwarder(Map.of("url", service.baseUrl() + "/policy/?key=k")))).isEqualTo(SpamVerdict.NOT_SPAM);
        service.verify(1, postRequestedFor(urlEqualTo(PATH + "?key=k")));
    }

    @Test
    void requestTimeoutStatusIsRetriedLikeATimeout() {
        service.stubFor(post(PATH).inScenario("busy").whenScenarioStateIs(STARTED)
                .willReturn(aResponse().withStatus(408)).willSetStateTo("ready"));
        service.stubFor(post(PATH).inScenario("busy").whenScenarioStateIs("ready").willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));

        assertThat(invite(forwarder(Map.of()))).isEqualTo(SpamVerdict.NOT_SPAM);
        service.verify(2, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void matrixErrorWithAServerErrorStatusIsAFailureRetriedThenAnsweredByTheFailureMode(CapturedOutput output) {
        // a gateway behind this one that failed closed: its 503 is not a policy's refusal
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(503)
                .withBody("{\"errcode\": \"M_UNKNOWN\", \"error\": \"A policy check is unavailable\"}")));

        assertThat(invite(forwarder(Map.of("failure-mode", "fail-open")))).isEqualTo(SpamVerdict.NOT_SPAM);
        service.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertThat(warnings(output)).singleElement().asString()
                .contains("Module policy: user_may_invite failed after 2 attempts (HTTP 503); failing open: answered ");
    }

    @Test
    void matrixErrorForABodyOverTheServicesCapIsAFailureAnsweredByTheFailureMode() {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(413).withBody("{\"errcode\": \"M_TOO_LARGE\"}")));

        assertThat(invite(forwarder(Map.of("failure-mode", "fail-open")))).isEqualTo(SpamVerdict.NOT_SPAM);
        service.verify(1, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void notificationsAnswered404DoNotOpenTheBreakerForTheQuestions() {
        service.stubFor(post("/policy/third_party_rules/on_new_event").willReturn(aResponse().withStatus(404)));
        service.stubFor(post(PATH).willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));
        HttpForwarder forwarder = forwarder(Map.of("callbacks[1]", "on_new_event"));

        for (int i = 0; i < 10; i++) {
            call(forwarder, OnNewEvent.TYPE, "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": " + Fixtures.STATE_EVENTS + "}");
        }

        assertThat(invite(forwarder)).isEqualTo(SpamVerdict.NOT_SPAM);
        service.verify(10, postRequestedFor(urlEqualTo("/policy/third_party_rules/on_new_event")));
        service.verify(1, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void checkAuthIsSentOnceSoTheServiceCountsOneFailedLoginOnce() {
        String checkAuth = "/policy/password_auth_provider/check_auth";
        service.stubFor(post(checkAuth).willReturn(aResponse().withStatus(503)));
        HttpForwarder forwarder = forwarder(Map.of("retries", "3", "login-types[0].type", "m.login.password",
                "login-types[0].fields[0]", "password"));

        Optional<String> user = forwarder.authCheckers().get(LoginType.of("m.login.password", "password"))
                .checkAuth(new CheckAuth.Args("alice", "m.login.password", JSON.createObjectNode().put("password", "wrong")));

        assertThat(user).isEmpty();
        service.verify(1, postRequestedFor(urlEqualTo(checkAuth)));
    }

    @Test
    void check3pidAuthIsSentOnceSoTheServiceCountsOneFailedLoginOnce() {
        String check3pidAuth = "/policy/password_auth_provider/check_3pid_auth";
        service.stubFor(post(check3pidAuth).willReturn(aResponse().withStatus(503)));
        HttpForwarder forwarder = forwarder(Map.of("retries", "3", "callbacks[1]", "check_3pid_auth"));

        Optional<String> user = call(forwarder, Check3pidAuth.TYPE,
                "{\"medium\": \"email\", \"address\": \"alice@example.com\", \"password\": \"wrong\"}");

        assertThat(user).isEmpty();
        service.verify(1, postRequestedFor(urlEqualTo(check3pidAuth)));
    }

    /** A service that counts what it is asked (failed logins, a rate limit) can tell an explanation from a question. */
    @Test
    void anExplanationsRequestSaysItIsADryRunAndARealCallsDoesNot() {
        service.stubFor(post(PATH).willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));
        HttpForwarder forwarder = forwarder(Map.of());
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            inviteEndpoint(forwarder, runner).explain(inviteArgs());
        }
        invite(forwarder);

        service.verify(1, postRequestedFor(urlEqualTo(PATH)).withHeader(Backend.DRY_RUN_HEADER, equalTo("true")));
        service.verify(1, postRequestedFor(urlEqualTo(PATH)).withoutHeader(Backend.DRY_RUN_HEADER));
    }

    @Test
    void explainingAFailingServiceAsksItButNeitherTimesTheCallsNorOpensTheBreaker() {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(500)));
        HttpForwarder forwarder = forwarder(Map.of());
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            CallbackEndpoint<UserMayInvite.Args, SpamVerdict> endpoint = inviteEndpoint(forwarder, runner);

            for (int i = 0; i < 10; i++) {
                endpoint.explain(inviteArgs());
            }
            // ten explanations of two failed attempts each: enough to open it, had they counted
            invite(forwarder);
        }

        service.verify(22, postRequestedFor(urlEqualTo(PATH)));
        assertThat(backendCalls("error")).isEqualTo(2);
    }

    @Test
    void explainingAFailingServiceLogsNoWarningSoTheRealCallsFailureIsWarnedOf(CapturedOutput output) {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(500)));
        HttpForwarder forwarder = forwarder(Map.of("retries", "0"));
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            Trace<?> trace = inviteEndpoint(forwarder, runner).explain(inviteArgs());

            assertThat(trace.steps()).singleElement().extracting(Trace.Step::reply)
                    .isEqualTo(new Reply.Answered<>(FailureAnswers.UNAVAILABLE));
        }
        assertThat(warnings(output)).as("the explanation shows its failure; the log is the homeserver's").isEmpty();

        invite(forwarder);

        assertThat(warnings(output)).singleElement().asString().contains("Module policy: user_may_invite failed after 1 attempt (HTTP 500)");
    }

    @Test
    void explainingWhileTheBreakerIsOpenAnswersWithoutARequestAsTheRealCallWould() {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(500)));
        HttpForwarder forwarder = forwarder(Map.of("retries", "0"));
        for (int i = 0; i < 10; i++) {
            invite(forwarder);
        }
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            Trace<?> trace = inviteEndpoint(forwarder, runner).explain(inviteArgs());

            assertThat(trace.steps()).singleElement().extracting(Trace.Step::reply)
                    .isEqualTo(new Reply.Answered<>(FailureAnswers.UNAVAILABLE));
        }
        service.verify(10, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void explainingOnceTheOpenBreakersWaitIsOverAsksTheServiceAsTheRealCallsTrialWouldAndLeavesTheTrialToIt()
            throws InterruptedException {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(500)));
        HttpForwarder forwarder = forwarder(Map.of("retries", "0", "circuit-breaker.wait-in-open-state", "100ms",
                "circuit-breaker.permitted-calls-in-half-open-state", "1"));
        for (int i = 0; i < 10; i++) {
            invite(forwarder);
        }
        service.stubFor(post(PATH).willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));
        Thread.sleep(300); // the breaker's wait, and then some: it turns half-open only when a call asks

        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            Trace<?> trace = inviteEndpoint(forwarder, runner).explain(inviteArgs());

            assertThat(trace.steps()).singleElement().extracting(Trace.Step::reply).isEqualTo(new Reply.Answered<>(SpamVerdict.NOT_SPAM));
        }
        assertThat(invite(forwarder)).as("the one trial call is still the real call's").isEqualTo(SpamVerdict.NOT_SPAM);
        service.verify(12, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void replacementWithANewTokenForTheSameServiceKeepsItsOpenBreakerAndSendsNothing() {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(500)));
        HttpForwarder before = openBreaker();

        HttpForwarder rotated = forwarder(Map.of("retries", "0", "token", "rotated"), Optional.of(before));

        assertThat(invite(rotated)).isEqualTo(FailureAnswers.UNAVAILABLE);
        service.verify(10, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void replacementForAnotherServiceStartsWithAClosedBreaker() {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(500)));
        service.stubFor(post("/other/spam_checker/user_may_invite").willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));
        HttpForwarder before = openBreaker();

        HttpForwarder moved = forwarder(Map.of("retries", "0", "url", service.baseUrl() + "/other"), Optional.of(before));

        assertThat(invite(moved)).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** A forwarder whose ten failed calls (no retries) opened its breaker. */
    private HttpForwarder openBreaker() {
        HttpForwarder forwarder = forwarder(Map.of("retries", "0"));
        for (int i = 0; i < 10; i++) {
            invite(forwarder);
        }
        return forwarder;
    }

    @Test
    void failedCallIsOneWarnLineNamingModuleCallbackAttemptsCauseAndAnswer(CapturedOutput output) {
        service.stubFor(post(PATH).willReturn(aResponse().withStatus(502)));

        invite(forwarder(Map.of("retries", "2")));

        assertThat(warnings(output)).singleElement().asString()
                .contains("Module policy: user_may_invite failed after 3 attempts (HTTP 502); failing closed: answered ");
        assertThat(backendCalls("error")).isEqualTo(3);
    }

    private SpamVerdict invite(PolicyModule module) {
        return call(module, UserMayInvite.TYPE, INVITE);
    }

    private static UserMayInvite.Args inviteArgs() {
        return UserMayInvite.TYPE.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(INVITE)));
    }

    /** The user_may_invite endpoint of a gateway whose one entry is the forwarder. */
    @SuppressWarnings("unchecked")
    private static CallbackEndpoint<UserMayInvite.Args, SpamVerdict> inviteEndpoint(PolicyModule forwarder, ChainRunner runner) {
        ModuleInstance entry = new ModuleInstance(0, "http", "policy", forwarder, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(30));
        return (CallbackEndpoint<UserMayInvite.Args, SpamVerdict>) new CallbackChains(List.of(entry), runner)
                .endpoint(Category.SPAM_CHECKER, "user_may_invite").orElseThrow();
    }

    private static <M, A, R> R call(PolicyModule module, CallbackType<M, A, R> callback, String json) {
        A args = callback.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(json)));
        return callback.call().apply(module.implementation(callback).orElseThrow(), args);
    }

    /** Test defaults: the service's base URL, user_may_invite forwarded, short pauses; any key may be overridden. */
    private HttpForwarder forwarder(Map<String, String> settings) {
        return forwarder(settings, Optional.empty());
    }

    /** A forwarder built by a reload, replacing {@code predecessor}. */
    private HttpForwarder forwarder(Map<String, String> settings, Optional<PolicyModule> predecessor) {
        HttpConfig config = ModuleConfigs.bind(HttpConfig.class, Map.of("url", service.baseUrl() + "/policy",
                "callbacks[0]", "user_may_invite", "timeout", "5s", "retry-backoff", "10ms"), settings);
        HttpForwarder forwarder = (HttpForwarder) new HttpModuleType().create(config, new ModuleContext("policy", "example.com", registry,
                binder -> binder.bindTo(registry), (file, fingerprint) -> { }, predecessor));
        opened.add(forwarder);
        return forwarder;
    }

    private static List<String> warnings(CapturedOutput output) {
        return output.getAll().lines().filter(line -> line.contains("WARN")).toList();
    }

    private long backendCalls(String outcome) {
        return registry.get("policy.module.backend").tag("module", "policy").tag("outcome", outcome).timer().count();
    }
}
