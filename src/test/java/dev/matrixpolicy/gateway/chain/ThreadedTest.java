package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.Links.answering;
import static dev.matrixpolicy.gateway.chain.Links.failedClosed;
import static dev.matrixpolicy.gateway.chain.Links.failedOpen;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Like {@code on_create_room}: each module's answer is appended to the request the next module
 * sees, an answer starting with {@code DENY} stops the walk, and {@code finish} wraps the request
 * as the last module left it.
 */
class ThreadedTest {

    private final List<String> finished = new ArrayList<>();
    private final Threaded<String, String> rule = new Threaded<>(
            answer -> answer.startsWith("DENY"),
            (request, answer) -> request + "+" + answer,
            request -> {
                finished.add(request);
                return "create(" + request + ")";
            });
    private final Links.Calls calls = new Links.Calls();

    private Decision<String> evaluate(List<Asker<String, String>> links) {
        return rule.evaluate(links, "req");
    }

    @Test
    void emptyChainFinishesWithTheOriginalArgs() {
        Decision<String> decision = evaluate(List.of());

        assertThat(decision.result()).isEqualTo("create(req)");
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void singleModuleChangesTheArgsThatFinishSees() {
        Decision<String> decision = evaluate(List.of(answering("a", calls, "a")));

        assertThat(decision.result()).isEqualTo("create(req+a)");
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.args()).containsExactly("req");
    }

    @Test
    void eachModuleSeesTheArgsAsThePreviousModuleLeftThemAndFinishSeesTheLast() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "a"),
                answering("b", calls, "b"),
                answering("c", calls, "c")));

        assertThat(calls.modules()).containsExactly("a", "b", "c");
        assertThat(calls.args()).containsExactly("req", "req+a", "req+a+b");
        assertThat(finished).containsExactly("req+a+b+c");
        assertThat(decision.result()).isEqualTo("create(req+a+b+c)");
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void stoppingAnswerEndsTheWalkDecidesAndFinishIsNotCalled() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "a"),
                answering("b", calls, "DENY b"),
                answering("c", calls, "c")));

        assertThat(decision.result()).isEqualTo("DENY b");
        assertThat(decision.decidedBy()).contains("b");
        assertThat(calls.modules()).containsExactly("a", "b");
        assertThat(calls.args()).containsExactly("req", "req+a");
        assertThat(finished).isEmpty();
    }

    @Test
    void firstStoppingModuleDecides() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "DENY a"),
                answering("b", calls, "DENY b")));

        assertThat(decision.result()).isEqualTo("DENY a");
        assertThat(decision.decidedBy()).contains("a");
        assertThat(calls.modules()).containsExactly("a");
    }

    @Test
    void moduleThatFailedOpenLeavesTheArgsUnchangedForTheNext() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, "a"),
                failedOpen("b", calls),
                answering("c", calls, "c")));

        assertThat(calls.args()).containsExactly("req", "req+a", "req+a");
        assertThat(decision.result()).isEqualTo("create(req+a+c)");
    }

    @Test
    void throughTheRunnerAShadowAnswerNeitherChangesTheArgsNorStopsTheWalk() {
        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            Decision<String> decision = runner.compile(
                    Links.chain(
                            Links.link("a", Links.answeringModule("a", calls, "a"), FailurePolicy.FAIL_CLOSED),
                            Links.shadowLink("trial", Links.answeringModule("trial", calls, "t"), FailurePolicy.FAIL_CLOSED),
                            Links.shadowLink("denies", Links.answeringModule("denies", calls, "DENY d"), FailurePolicy.FAIL_CLOSED),
                            Links.link("c", Links.answeringModule("c", calls, "c"), FailurePolicy.FAIL_CLOSED)),
                    Links.TestCallback::answer, rule, answer -> "value").decide("req");

            assertThat(calls.args()).containsExactly("req", "req+a", "req+a", "req+a");
            assertThat(decision.result()).isEqualTo("create(req+a+c)");
            assertThat(decision.decidedBy()).isEmpty();
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
        assertThat(finished).isEmpty();
    }
}
