package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_CLOSED;
import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_OPEN;
import static dev.matrixpolicy.gateway.chain.Links.answering;
import static dev.matrixpolicy.gateway.chain.Links.failedClosed;
import static dev.matrixpolicy.gateway.chain.Links.failedOpen;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import dev.matrixpolicy.gateway.chain.RunAll.Completed;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunAllTest {

    private final RunAll<String> rule = new RunAll<>();
    private final Links.Calls calls = new Links.Calls();

    private Decision<Completed> evaluate(List<Asker<String, Completed>> links) {
        return rule.evaluate(links, "joined");
    }

    @Test
    void emptyChainNotifiesNobodyAndDecidedByNoModule() {
        Decision<Completed> decision = evaluate(List.of());

        assertThat(decision.result()).isEqualTo(new Completed(0, 0));
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void singleModuleIsNotified() {
        Decision<Completed> decision = evaluate(List.of(answering("a", calls, RunAll.DELIVERED)));

        assertThat(decision.result()).isEqualTo(new Completed(1, 0));
        assertThat(calls.modules()).containsExactly("a");
        assertThat(calls.args()).containsExactly("joined");
    }

    @Test
    void everyModuleIsCalledInOrderWithTheSameArgsAndNoneDecides() {
        Decision<Completed> decision = evaluate(List.of(
                answering("a", calls, RunAll.DELIVERED),
                answering("b", calls, RunAll.DELIVERED),
                answering("c", calls, RunAll.DELIVERED)));

        assertThat(decision.result()).isEqualTo(new Completed(3, 0));
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.modules()).containsExactly("a", "b", "c");
        assertThat(calls.args()).containsExactly("joined", "joined", "joined");
    }

    @Test
    void moduleThatFailedOpenIsCountedAsFailedAndTheRestAreStillCalled() {
        Decision<Completed> decision = evaluate(List.of(
                failedOpen("a", calls),
                answering("b", calls, RunAll.DELIVERED)));

        assertThat(decision.result()).isEqualTo(new Completed(2, 1));
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void moduleThatFailedClosedDoesNotStopTheRestAndIsCountedAsFailed() {
        Decision<Completed> decision = evaluate(List.of(
                answering("a", calls, RunAll.DELIVERED),
                failedClosed("b", calls),
                failedOpen("c", calls),
                answering("d", calls, RunAll.DELIVERED)));

        assertThat(decision.result()).isEqualTo(new Completed(4, 2));
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.modules()).containsExactly("a", "b", "c", "d");
    }

    @Test
    void aShadowLinkIsNotCalledAndNotCountedAsNotified() {
        Decision<Completed> decision = evaluate(List.of(
                answering("a", calls, RunAll.DELIVERED),
                Links.shadow("trial", calls),
                answering("b", calls, RunAll.DELIVERED)));

        assertThat(decision.result()).isEqualTo(new Completed(2, 0));
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    /** A notification chain through {@code runner}: each module's answer is dropped; labelled delivered or partial. */
    @SafeVarargs
    private ChainRunner.CompiledChain<String, Completed> notification(ChainRunner runner, Link<Links.TestCallback>... links) {
        return runner.compile(Links.chain(links),
                (Links.TestCallback module, String args) -> {
                    module.answer(args);
                    return RunAll.DELIVERED;
                },
                rule,
                completed -> completed.failed() == 0 ? "delivered" : "partial");
    }

    @Test
    void throughTheRunnerAShadowModuleIsNeverCalledNorObserved() {
        RecordingObserver observer = new RecordingObserver();
        try (ChainRunner runner = new ChainRunner(observer)) {
            Decision<Completed> decision = notification(runner,
                    Links.shadowLink("trial", Links.answeringModule("trial", calls, "ok"), FAIL_CLOSED),
                    Links.link("a", Links.answeringModule("a", calls, "ok"), FAIL_CLOSED)).decide("joined");

            assertThat(decision.result()).isEqualTo(new Completed(1, 0));
            assertThat(decision.shadowAnswers()).isEmpty();
            assertThat(calls.modules()).containsExactly("a");
            assertThat(observer.links()).extracting(RecordingObserver.LinkEvent::module).containsExactly("a");
            assertThat(observer.shadows()).isEmpty();
        }
    }

    @Test
    void noAnswerDecidesANotification() {
        assertThat(rule.decides(RunAll.DELIVERED)).isFalse();
        assertThat(rule.decides(new Completed(3, 3))).isFalse();
    }

    @Test
    void throughTheRunnerAFailClosedModuleThatThrowsIsObservedButDoesNotFailTheNotification() {
        RecordingObserver observer = new RecordingObserver();
        try (ChainRunner runner = new ChainRunner(observer)) {
            ChainRunner.CompiledChain<String, Completed> compiled = notification(runner,
                    Links.link("a", Links.answeringModule("a", calls, "ok"), FAIL_CLOSED),
                    Links.link("b", Links.throwingModule("b", calls), FAIL_CLOSED),
                    Links.link("c", Links.throwingModule("c", calls), FAIL_OPEN),
                    Links.link("d", Links.answeringModule("d", calls, "ok"), FAIL_CLOSED));

            Decision<Completed> decision = compiled.decide("joined");

            assertThat(decision.result()).isEqualTo(new Completed(4, 2));
            assertThat(calls.modules()).containsExactly("a", "b", "c", "d");
            assertThat(observer.links()).extracting(RecordingObserver.LinkEvent::outcome)
                    .containsExactly(
                            LinkOutcome.ANSWERED, LinkOutcome.FAILED, LinkOutcome.FAILED, LinkOutcome.ANSWERED);
            assertThat(observer.failed()).isEmpty();
            assertThat(observer.decided()).extracting(RecordingObserver.Decided::outcome).containsExactly("partial");
        }
    }
}
