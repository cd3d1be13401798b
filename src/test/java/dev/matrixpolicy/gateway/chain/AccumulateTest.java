package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_CLOSED;
import static dev.matrixpolicy.gateway.chain.Links.answering;
import static dev.matrixpolicy.gateway.chain.Links.failedClosed;
import static dev.matrixpolicy.gateway.chain.Links.failedOpen;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Answers are strings concatenated in order, so the result shows both what was combined and in
 * which order; {@code ALL} short-circuits, like {@code get_interested_users} answering "all users".
 */
class AccumulateTest {

    private static final String ALL = "ALL";

    private final Accumulate<String, String> rule = new Accumulate<>("", String::concat, ALL::equals);
    private final Links.Calls calls = new Links.Calls();

    private Decision<String> evaluate(List<Asker<String, String>> links) {
        return rule.evaluate(links, "room");
    }

    @Test
    void emptyChainGivesTheIdentityDecidedByNoModule() {
        Decision<String> decision = evaluate(List.of());

        assertThat(decision.result()).isEmpty();
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void singleModuleAnswerIsCombinedWithTheIdentity() {
        Accumulate<String, String> fromSeed = new Accumulate<>("seed:", String::concat, ALL::equals);

        Decision<String> decision = fromSeed.evaluate(List.of(answering("a", calls, "a")), "room");

        assertThat(decision.result()).isEqualTo("seed:a");
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void whenNoModuleShortCircuitsEveryAnswerIsCombinedInChainOrder() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "a"),
                answering("b", calls, "b"),
                answering("c", calls, "c")));

        assertThat(decision.result()).isEqualTo("abc");
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.modules()).containsExactly("a", "b", "c");
    }

    @Test
    void everyAskedModuleSeesTheOriginalArgs() {
        evaluate(List.of(answering("a", calls, "a"), answering("b", calls, "b")));

        assertThat(calls.args()).containsExactly("room", "room");
    }

    @Test
    void shortCircuitingAnswerDecidesAsItIsAndLaterModulesAreNotCalled() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "a"),
                answering("b", calls, ALL),
                answering("c", calls, "c")));

        assertThat(decision.result()).isEqualTo(ALL);
        assertThat(decision.decidedBy()).contains("b");
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void firstShortCircuitingModuleDecides() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, ALL),
                answering("b", calls, ALL)));

        assertThat(decision.decidedBy()).contains("a");
        assertThat(calls.modules()).containsExactly("a");
    }

    @Test
    void withoutAStopPredicateNoAnswerShortCircuits() {
        Accumulate<String, String> neverStops = new Accumulate<>("", String::concat);

        Decision<String> decision = neverStops.evaluate(List.of(
                answering("a", calls, ALL),
                answering("b", calls, "b")), "room");

        assertThat(decision.result()).isEqualTo("ALLb");
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void moduleThatFailedOpenIsLeftOutOfTheCombination() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "a"),
                failedOpen("b", calls),
                answering("c", calls, "c")));

        assertThat(decision.result()).isEqualTo("ac");
        assertThat(calls.modules()).containsExactly("a", "b", "c");
    }

    @Test
    void onlyAShortCircuitingAnswerDecides() {
        assertThat(rule.decides(ALL)).isTrue();
        assertThat(rule.decides("a")).isFalse();
    }

    @Test
    void throughTheRunnerAShadowAnswerIsLeftOutOfTheCombinationEvenWhenItWouldShortCircuit() {
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            Decision<String> decision = runner.compile(
                    Links.chain(
                            Links.link("a", Links.answeringModule("a", calls, "a"), FAIL_CLOSED),
                            Links.shadowLink("trial", Links.answeringModule("trial", calls, ALL), FAIL_CLOSED),
                            Links.shadowLink("more", Links.answeringModule("more", calls, "x"), FAIL_CLOSED),
                            Links.link("c", Links.answeringModule("c", calls, "c"), FAIL_CLOSED)),
                    Links.TestCallback::answer, rule, answer -> "value").decide("room");

            assertThat(decision.result()).isEqualTo("ac");
            assertThat(decision.decidedBy()).isEmpty();
            assertThat(calls.modules()).containsExactly("a", "trial", "more", "c");
            assertThat(decision.shadowAnswers()).extracting(ShadowAnswer::module, ShadowAnswer::wouldDecide)
                    .containsExactly(tuple("trial", true), tuple("more", false));
        }
    }

    @Test
    void moduleThatFailedClosedStopsTheWalkAndItsFailurePropagates() {
        assertThatExceptionOfType(ModuleFailedException.class)
                .isThrownBy(() -> evaluate(List.of(
                        answering("a", calls, "a"),
                        failedClosed("b", calls),
                        answering("c", calls, "c"))));

        assertThat(calls.modules()).containsExactly("a", "b");
    }
}
