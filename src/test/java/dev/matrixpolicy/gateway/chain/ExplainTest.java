package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_CLOSED;
import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_OPEN;
import static dev.matrixpolicy.gateway.chain.Links.answeringModule;
import static dev.matrixpolicy.gateway.chain.Links.link;
import static dev.matrixpolicy.gateway.chain.Links.recording;
import static dev.matrixpolicy.gateway.chain.Links.shadowLink;
import static dev.matrixpolicy.gateway.chain.Links.throwingModule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import dev.matrixpolicy.gateway.chain.Trace.Step;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ChainRunner.CompiledChain#explain}, on {@link Links#spamCheck spam-check} chains: {@code NOT_SPAM} falls through. */
class ExplainTest {

    private static final String NOT_SPAM = Links.NOT_SPAM;

    private final RecordingObserver observer = new RecordingObserver();
    private final ChainRunner runner = new ChainRunner(observer);
    private final Links.Calls calls = new Links.Calls();

    @AfterEach
    void closeRunner() {
        runner.close();
    }

    @Test
    void explainListsEveryAskedEntryInOrderWithItsReplyUpToTheOneThatDecided() {
        Trace<String> trace = Links.spamCheck(runner,
                link("passes", answeringModule("passes", calls, NOT_SPAM), FAIL_CLOSED),
                link("throws", throwingModule("throws", calls), FAIL_OPEN),
                shadowLink("trial", answeringModule("trial", calls, "SPAM"), FAIL_CLOSED),
                link("decides", answeringModule("decides", calls, "M_FORBIDDEN"), FAIL_CLOSED),
                link("never", answeringModule("never", calls, "SPAM"), FAIL_CLOSED)).explain("event");

        assertThat(trace.steps()).extracting(Step::module, Step::shadow, Step::reply).containsExactly(
                tuple("passes", false, new Reply.Answered<>(NOT_SPAM)),
                tuple("throws", false, new Reply.Failed<>(LinkOutcome.FAILED, "IllegalStateException: throws is broken")),
                tuple("trial", true, new Reply.Answered<>("SPAM")),
                tuple("decides", false, new Reply.Answered<>("M_FORBIDDEN")));
        assertThat(trace.outcome()).isEqualTo(new Trace.Decided<>(new Decision<>("M_FORBIDDEN", Optional.of("decides"),
                List.of(new ShadowAnswer<>("trial", new Reply.Answered<>("SPAM"), true)))));
        assertThat(calls.modules()).doesNotContain("never");
    }

    @Test
    void explainTimesEachStep() {
        Trace<String> trace = Links.spamCheck(runner, link("slowish", recording("slowish", calls, args -> {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return NOT_SPAM;
        }), FAIL_CLOSED)).explain("event");

        assertThat(trace.steps()).singleElement().extracting(Step::nanos)
                .satisfies(nanos -> assertThat(Duration.ofNanos(nanos)).isGreaterThanOrEqualTo(Duration.ofMillis(5)));
    }

    @Test
    void explainOfAChainThatFailsClosedEndsWithTheFailureAfterTheFailedStep() {
        Trace<String> trace = Links.spamCheck(runner,
                link("passes", answeringModule("passes", calls, NOT_SPAM), FAIL_CLOSED),
                link("broken", throwingModule("broken", calls), FAIL_CLOSED),
                link("never", answeringModule("never", calls, "SPAM"), FAIL_CLOSED)).explain("event");

        assertThat(trace.steps()).extracting(Step::module).containsExactly("passes", "broken");
        assertThat(trace.outcome()).isInstanceOfSatisfying(Trace.FailedClosed.class, failed -> {
            assertThat(failed.failure().module()).isEqualTo("broken");
            assertThat(failed.failure()).hasMessageContaining("broken is broken");
        });
    }

    @Test
    void explainTellsATimedOutStepFromAFailedOne() {
        Trace<String> trace = Links.spamCheck(runner,
                link("slow", recording("slow", calls, args -> {
                    try {
                        Thread.sleep(Duration.ofSeconds(5));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return "too late";
                }), FAIL_OPEN, Duration.ofMillis(50))).explain("event");

        assertThat(trace.steps()).singleElement().extracting(Step::reply)
                .isEqualTo(new Reply.Failed<>(LinkOutcome.TIMED_OUT, "TimeoutException: no answer within 50 ms"));
    }

    @Test
    void explainOfAnEmptyChainAsksNobodyAndGivesTheRuleDefault() {
        Trace<String> trace = Links.spamCheck(runner).explain("event");

        assertThat(trace).isEqualTo(Trace.unasked(new Decision<>(NOT_SPAM, Optional.empty())));
    }

    @Test
    void explainIsNotReportedToTheObserver() {
        Links.spamCheck(runner,
                shadowLink("trial", answeringModule("trial", calls, "SPAM"), FAIL_CLOSED),
                link("broken", throwingModule("broken", calls), FAIL_OPEN),
                link("decides", answeringModule("decides", calls, "SPAM"), FAIL_CLOSED)).explain("event");
        Links.spamCheck(runner, link("broken", throwingModule("broken", calls), FAIL_CLOSED)).explain("event");

        assertThat(observer.heardNothing()).isTrue();
    }

    @Test
    void modulesAskedForAnExplanationAreInADryRunWhetherTheyRunInlineOrUnderADeadline() {
        List<Boolean> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        TestCallbackSeeingDryRun inline = new TestCallbackSeeingDryRun(seen);
        TestCallbackSeeingDryRun underDeadline = new TestCallbackSeeingDryRun(seen);
        ChainRunner.CompiledChain<String, String> chain = Links.spamCheck(runner,
                link("inline", inline, FAIL_CLOSED),
                link("deadline", underDeadline, FAIL_CLOSED, Duration.ofSeconds(5)));

        chain.explain("event");
        assertThat(seen).containsExactly(true, true);

        seen.clear();
        chain.decide("event");
        assertThat(seen).containsExactly(false, false);
        assertThat(DryRun.active()).isFalse();
    }

    /** Records whether it was asked in a dry run, and falls through. */
    private record TestCallbackSeeingDryRun(List<Boolean> seen) implements Links.TestCallback {
        @Override
        public String answer(String args) {
            seen.add(DryRun.active());
            return NOT_SPAM;
        }
    }
}
