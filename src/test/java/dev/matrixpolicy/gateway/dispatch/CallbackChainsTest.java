package dev.matrixpolicy.gateway.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.support.PlainModules;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.JsonNodeFactory;

/** How configured module instances become the endpoints' chains: their mode, and explaining through an endpoint. */
class CallbackChainsTest {
    private static final UserMayInvite.Args INVITE = new UserMayInvite.Args("@a:example.com", "@b:example.com", "!r:example.com");

    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);

    @AfterEach
    void stop() {
        runner.close();
    }

    @Test
    void aShadowInstanceIsAskedOnItsCallbacksChainButNeverDecides() {
        CallbackEndpoint<UserMayInvite.Args, SpamVerdict> endpoint = userMayInvite(new CallbackChains(List.of(
                PlainModules.instance("trial", (UserMayInvite) args -> Rejection.of(Rejection.FORBIDDEN), Link.Mode.SHADOW)), runner));

        Decision<SpamVerdict> decision = endpoint.decide(INVITE);

        assertThat(decision.result()).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(decision.shadowAnswers()).singleElement().satisfies(answer -> {
            assertThat(answer.module()).isEqualTo("trial");
            assertThat(answer.wouldDecide()).isTrue();
        });
    }

    @Test
    void explainThroughAnEndpointTellsTheShadowStepFromTheDecidingOne() {
        CallbackEndpoint<UserMayInvite.Args, SpamVerdict> endpoint = userMayInvite(new CallbackChains(List.of(
                PlainModules.instance("trial", (UserMayInvite) args -> SpamVerdict.NOT_SPAM, Link.Mode.SHADOW),
                PlainModules.instance("denies", (UserMayInvite) args -> Rejection.of(Rejection.FORBIDDEN), Link.Mode.ENFORCE)), runner));

        Trace<SpamVerdict> trace = endpoint.explain(INVITE);

        assertThat(trace.steps()).extracting(Trace.Step::module, Trace.Step::shadow)
                .containsExactly(tuple("trial", true), tuple("denies", false));
        assertThat(trace.outcome()).isInstanceOfSatisfying(Trace.Decided.class,
                decided -> assertThat(decided.decision().decidedBy()).contains("denies"));
    }

    @Test
    void explainOfCheckAuthWalksTheChainOfTheRequestsLoginType() {
        CallbackEndpoint<CheckAuth.Args, Optional<String>> endpoint = checkAuth(new CallbackChains(List.of(
                authChecker("passwords", LoginType.of("m.login.password", "password"), Optional.of("@a:example.com")),
                authChecker("tokens", LoginType.of("org.example.token", "token"), Optional.of("@b:example.com"))), runner));

        Trace<Optional<String>> trace = endpoint.explain(login("org.example.token"));

        assertThat(trace.steps()).singleElement().satisfies(step -> {
            assertThat(step.module()).isEqualTo("tokens");
            assertThat(step.reply()).isEqualTo(new Reply.Answered<>(Optional.of("@b:example.com")));
        });
    }

    @Test
    void explainOfALoginTypeNobodyChecksAsksNobodyAndFailsTheLoginAsDecideDoes() {
        CallbackEndpoint<CheckAuth.Args, Optional<String>> endpoint = checkAuth(new CallbackChains(List.of(
                authChecker("passwords", LoginType.of("m.login.password", "password"), Optional.of("@a:example.com"))), runner));

        Trace<Optional<String>> trace = endpoint.explain(login("org.example.unknown"));

        assertThat(trace).isEqualTo(Trace.unasked(endpoint.decide(login("org.example.unknown"))));
        assertThat(trace.steps()).isEmpty();
    }

    /** A module tried out in shadow mode that both checks invites and hears of new events. */
    private static final class InviteTrial implements UserMayInvite, OnNewEvent {
        @Override
        public SpamVerdict userMayInvite(UserMayInvite.Args args) {
            return Rejection.of(Rejection.FORBIDDEN);
        }

        @Override
        public void onNewEvent(OnNewEvent.Args args) {
            // would note the event somewhere
        }
    }

    /**
     * A notification chain of shadow entries only never calls them, yet discovery listed it, and the
     * homeserver's module sent every new event, with its room's whole state, for nobody to hear.
     */
    @Test
    void aNotificationOfShadowEntriesOnlyIsNotOfferedToTheHomeserverWhileTheirChecksAre() {
        CallbackChains chains = new CallbackChains(List.of(PlainModules.instance("trial", new InviteTrial(), Link.Mode.SHADOW)), runner);

        assertThat(chains.endpoint(OnNewEvent.TYPE).hasModules()).isFalse();
        assertThat(chains.endpoint(UserMayInvite.TYPE).hasModules()).isTrue();
        assertThat(chains.endpoint(OnNewEvent.TYPE).chains()).isEqualTo(Map.of("", List.of("trial")));
    }

    @Test
    void aNotificationWithAnEnforcingEntryIsOffered() {
        CallbackChains chains = new CallbackChains(List.of(
                PlainModules.instance("trial", new InviteTrial(), Link.Mode.SHADOW),
                PlainModules.instance("listener", (OnNewEvent) args -> { }, Link.Mode.ENFORCE)), runner);

        assertThat(chains.endpoint(OnNewEvent.TYPE).hasModules()).isTrue();
    }

    @SuppressWarnings("unchecked")
    private static CallbackEndpoint<UserMayInvite.Args, SpamVerdict> userMayInvite(CallbackChains chains) {
        return (CallbackEndpoint<UserMayInvite.Args, SpamVerdict>) chains.endpoint(Category.SPAM_CHECKER, "user_may_invite").orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private static CallbackEndpoint<CheckAuth.Args, Optional<String>> checkAuth(CallbackChains chains) {
        return (CallbackEndpoint<CheckAuth.Args, Optional<String>>) chains.endpoint(Category.PASSWORD_AUTH_PROVIDER, "check_auth")
                .orElseThrow();
    }

    private static CheckAuth.Args login(String loginType) {
        return new CheckAuth.Args("a", loginType, JsonNodeFactory.instance.objectNode());
    }

    private static ModuleInstance authChecker(String name, LoginType loginType, Optional<String> user) {
        PolicyModule module = new PolicyModule() {
            @Override
            public <M> Optional<M> implementation(CallbackType<M, ?, ?> type) {
                return Optional.empty();
            }

            @Override
            public Map<LoginType, CheckAuth> authCheckers() {
                return Map.of(loginType, args -> user);
            }

            @Override
            public boolean mayBlock() {
                return false;
            }
        };
        return new ModuleInstance(0, "test", name, module, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));
    }
}
