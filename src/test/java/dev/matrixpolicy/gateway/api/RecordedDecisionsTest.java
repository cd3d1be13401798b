package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.chain.Chain;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.decisions.Refusal;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.JsonNodeFactory;

/** What the decision log is handed of a chain's answer: the enforced refusal or failure, and what shadow entries would have done. */
class RecordedDecisionsTest {
    private static final Rejection REFUSED = new Rejection("M_FORBIDDEN", Optional.of("not here"));

    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);
    private final List<Refusal> recorded = new ArrayList<>();
    private final RecordedDecisions decisions = new RecordedDecisions((refusal, args) -> recorded.add(refusal));

    @AfterEach
    void closeRunner() {
        runner.close();
    }

    @Test
    void aShadowEntrysWouldBeRefusalIsLoggedWhenALaterEntryFailsClosed() {
        Endpoint endpoint = endpoint(
                new Link<>("trial", args -> REFUSED, FailurePolicy.FAIL_CLOSED, null, Link.Mode.SHADOW),
                new Link<Function<String, SpamVerdict>>("broken", args -> {
                    throw new IllegalStateException("broken is broken");
                }, FailurePolicy.FAIL_CLOSED, null));

        assertThatThrownBy(() -> decisions.decide(endpoint, "event", JsonNodeFactory.instance::objectNode, PolicyAnswer::status))
                .isInstanceOf(ModuleFailedException.class);

        assertThat(recorded).extracting(refusal -> refusal.entry().orElseThrow(), Refusal::mode, Refusal::outcome)
                .containsExactly(tuple("broken", Refusal.Mode.ENFORCE, Refusal.Outcome.FAILED),
                        tuple("trial", Refusal.Mode.SHADOW, Refusal.Outcome.REFUSED));
    }

    @Test
    void aShadowEntrysWouldBeRefusalIsLoggedBesideTheDecision() {
        Endpoint endpoint = endpoint(
                new Link<>("trial", args -> REFUSED, FailurePolicy.FAIL_CLOSED, null, Link.Mode.SHADOW),
                new Link<Function<String, SpamVerdict>>("passes", args -> SpamVerdict.NOT_SPAM, FailurePolicy.FAIL_CLOSED, null));

        decisions.decide(endpoint, "event", JsonNodeFactory.instance::objectNode, PolicyAnswer::status);

        assertThat(recorded).extracting(refusal -> refusal.entry().orElseThrow(), Refusal::mode)
                .containsExactly(tuple("trial", Refusal.Mode.SHADOW));
    }

    /** A module that refuses without a message is answered with the default one: the log says what the homeserver was told. */
    @Test
    void aRefusalWithoutAMessageIsLoggedWithTheMessageTheCallerIsAnswered() {
        Rejection unexplained = Rejection.of("M_FORBIDDEN");
        Endpoint endpoint = endpoint(
                new Link<>("trial", args -> unexplained, FailurePolicy.FAIL_CLOSED, null, Link.Mode.SHADOW),
                new Link<Function<String, SpamVerdict>>("denylist", args -> unexplained, FailurePolicy.FAIL_CLOSED, null));

        decisions.decide(endpoint, "event", JsonNodeFactory.instance::objectNode, PolicyAnswer::status);

        String answered = ResultTypes.SPAM_VERDICT.toJson(unexplained).get("error").asString();
        assertThat(recorded).extracting(refusal -> refusal.entry().orElseThrow(), refusal -> refusal.reason().orElseThrow())
                .containsExactly(tuple("denylist", answered), tuple("trial", answered));
    }

    @SafeVarargs
    private Endpoint endpoint(Link<Function<String, SpamVerdict>>... links) {
        return new Endpoint(runner.compile(new Chain<>("user_may_invite", List.of(links)), Function::apply,
                Rules.notSpamFallsThrough(), ResultTypes.SPAM_VERDICT::outcome));
    }

    /** {@code spam_checker/user_may_invite} over the chain given, asked with a string. */
    private record Endpoint(ChainRunner.CompiledChain<String, SpamVerdict> chain) implements CallbackEndpoint<String, SpamVerdict> {
        @Override
        public Category category() {
            return Category.SPAM_CHECKER;
        }

        @Override
        public String name() {
            return "user_may_invite";
        }

        @Override
        public String read(JsonArgs json) {
            return "event";
        }

        @Override
        public Decision<SpamVerdict> decide(String args) {
            return chain.decide(args);
        }

        @Override
        public Trace<SpamVerdict> explain(String args) {
            return chain.explain(args);
        }

        @Override
        public ResultType<SpamVerdict> resultType() {
            return ResultTypes.SPAM_VERDICT;
        }

        @Override
        public Map<String, List<String>> chains() {
            return Map.of("", List.of());
        }
    }
}
