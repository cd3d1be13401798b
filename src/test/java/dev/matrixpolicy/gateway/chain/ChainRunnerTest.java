package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_CLOSED;
import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_OPEN;
import static dev.matrixpolicy.gateway.chain.Links.CALLBACK;
import static dev.matrixpolicy.gateway.chain.Links.answeringModule;
import static dev.matrixpolicy.gateway.chain.Links.link;
import static dev.matrixpolicy.gateway.chain.Links.recording;
import static dev.matrixpolicy.gateway.chain.Links.shadowLink;
import static dev.matrixpolicy.gateway.chain.Links.throwingModule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import dev.matrixpolicy.gateway.chain.Links.TestCallback;
import dev.matrixpolicy.gateway.chain.RecordingObserver.LinkEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The runner, driven through a spam-check chain: {@code NOT_SPAM} falls through, anything else decides. */
class ChainRunnerTest {

    private static final String NOT_SPAM = Links.NOT_SPAM;
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(100);
    private static final Duration LONG_SLEEP = Duration.ofSeconds(5);
    /** Far below {@link #LONG_SLEEP} yet loose enough for a slow build machine. */
    private static final Duration WELL_UNDER_THE_SLEEP = Duration.ofSeconds(3);

    private final RecordingObserver observer = new RecordingObserver();
    private final ChainRunner runner = new ChainRunner(observer);
    private final Links.Calls calls = new Links.Calls();

    @AfterEach
    void closeRunner() {
        runner.close();
    }

    @SafeVarargs
    private ChainRunner.CompiledChain<String, String> compile(Link<TestCallback>... links) {
        return Links.spamCheck(runner, links);
    }

    private static ModuleFailedException failureOf(Runnable decide) {
        return catchThrowableOfType(ModuleFailedException.class, decide::run);
    }

    /** A module that sleeps far longer than {@link #SHORT_TIMEOUT}, telling {@code interrupted} if it is woken. */
    private TestCallback sleeping(String module, CountDownLatch interrupted) {
        return recording(module, calls, args -> {
            try {
                Thread.sleep(LONG_SLEEP);
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
            return "too late";
        });
    }

    // --- failure policies ---

    @Test
    void failOpenModuleThatThrowsIsSkippedAndTheNextModuleDecides() {
        Decision<String> decision = compile(
                link("a", throwingModule("a", calls), FAIL_OPEN),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_CLOSED)).decide("event");

        assertThat(decision.result()).isEqualTo("SPAM");
        assertThat(decision.decidedBy()).contains("b");
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void failClosedModuleThatThrowsFailsTheChainNamingCallbackAndModuleAndLaterModulesAreNotCalled() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_OPEN),
                link("b", throwingModule("b", calls), FAIL_CLOSED),
                link("c", answeringModule("c", calls, "SPAM"), FAIL_OPEN));

        ModuleFailedException failure = failureOf(() -> chain.decide("event"));

        assertThat(failure).isNotNull();
        assertThat(failure.callback()).isEqualTo(CALLBACK);
        assertThat(failure.module()).isEqualTo("b");
        assertThat(failure).hasMessageContaining("'b'").hasMessageContaining(CALLBACK)
                .hasRootCauseInstanceOf(IllegalStateException.class)
                .hasRootCauseMessage("b is broken");
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void failOpenModuleThatReturnsNullIsSkippedAsAFailure() {
        Decision<String> decision = compile(
                link("a", recording("a", calls, args -> null), FAIL_OPEN),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN)).decide("event");

        assertThat(decision.decidedBy()).contains("b");
        assertThat(observer.links()).first().satisfies(event -> {
            assertThat(event.outcome()).isEqualTo(LinkOutcome.FAILED);
            assertThat(event.failure()).isInstanceOf(IllegalStateException.class).hasMessageContaining("null");
        });
    }

    /**
     * Java's compiler lets no callback throw a checked exception, but a module written in another JVM
     * language (or throwing sneakily) can: run inline, its IOException escaped the failure policy and
     * failed the request past the observer, where on a deadline thread it was a failure like any other.
     */
    @Test
    void failOpenModuleWithoutTimeoutThatThrowsACheckedExceptionIsSkippedAsAFailure() {
        Decision<String> decision = compile(
                link("a", recording("a", calls, args -> {
                    throw ChainRunnerTest.<RuntimeException>sneakily(new IOException("disk gone"));
                }), FAIL_OPEN),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN)).decide("event");

        assertThat(decision.decidedBy()).contains("b");
        assertThat(observer.links()).first().satisfies(event -> {
            assertThat(event.outcome()).isEqualTo(LinkOutcome.FAILED);
            assertThat(event.failure()).isInstanceOf(IOException.class).hasMessage("disk gone");
        });
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneakily(Throwable thrown) throws E {
        throw (E) thrown;
    }

    @Test
    void failClosedModuleThatReturnsNullFailsTheChain() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("a", recording("a", calls, args -> null), FAIL_CLOSED),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN));

        ModuleFailedException failure = failureOf(() -> chain.decide("event"));

        assertThat(failure).isNotNull();
        assertThat(failure.module()).isEqualTo("a");
        assertThat(calls.modules()).containsExactly("a");
    }

    // --- errors a module throws ---

    /** A module that walks what it is asked recursively, as a module walks a nested event, and never finds the bottom. */
    private TestCallback overflowing(String module) {
        return recording(module, calls, args -> "depth " + depthBelow(0));
    }

    private static int depthBelow(int level) {
        return 1 + depthBelow(level + 1);
    }

    /**
     * A module's StackOverflowError (an event nested thousands deep) escaped the failure policy: the
     * request failed with a 500, which the homeserver's module reads as the gateway's outage and answers
     * by its own on_failure (fail-open: NOT_SPAM), where a fail-closed entry's failure is a 503 decision.
     */
    @Test
    void failClosedModuleThatOverflowsItsStackFailsTheChainClosedAsAnyFailingModuleDoes() {
        for (Duration timeout : new Duration[] {null, Duration.ofSeconds(10)}) {
            ChainRunner.CompiledChain<String, String> chain = compile(
                    link("deep", overflowing("deep"), FAIL_CLOSED, timeout),
                    link("b", answeringModule("b", calls, NOT_SPAM), FAIL_OPEN));

            ModuleFailedException failure = failureOf(() -> chain.decide("event"));

            assertThat(failure).as("timeout %s", timeout).isNotNull().hasCauseInstanceOf(StackOverflowError.class);
            assertThat(failure.module()).isEqualTo("deep");
        }
        assertThat(observer.failed()).hasSize(2);
        assertThat(observer.links()).extracting(LinkEvent::outcome).containsExactly(LinkOutcome.FAILED, LinkOutcome.FAILED);
        assertThat(calls.modules()).containsExactly("deep", "deep");
    }

    @Test
    void failOpenModuleThatOverflowsItsStackIsSkippedAndTheNextModuleDecides() {
        for (Duration timeout : new Duration[] {null, Duration.ofSeconds(10)}) {
            Decision<String> decision = compile(
                    link("deep", overflowing("deep"), FAIL_OPEN, timeout),
                    link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN)).decide("event");

            assertThat(decision.decidedBy()).as("timeout %s", timeout).contains("b");
        }
        assertThat(observer.links()).extracting(LinkEvent::module, LinkEvent::outcome).containsExactly(
                tuple("deep", LinkOutcome.FAILED), tuple("b", LinkOutcome.ANSWERED),
                tuple("deep", LinkOutcome.FAILED), tuple("b", LinkOutcome.ANSWERED));
    }

    @Test
    void aShadowEntryThatOverflowsItsStackNeverFailsTheChain() {
        Decision<String> decision = compile(
                shadowLink("trial", overflowing("trial"), FAIL_CLOSED),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_CLOSED)).decide("event");

        assertThat(decision.decidedBy()).contains("b");
        assertThat(decision.shadowAnswers()).containsExactly(new ShadowAnswer<>("trial",
                new Reply.Failed<>(LinkOutcome.FAILED, "StackOverflowError"), false));
    }

    @Test
    void aNotificationModuleThatOverflowsItsStackStopsNoneOfTheOthers() {
        ChainRunner.CompiledChain<String, RunAll.Completed> notification = runner.compile(Links.chain(
                        link("deep", overflowing("deep"), FAIL_CLOSED),
                        link("after", answeringModule("after", calls, "delivered"), FAIL_CLOSED)),
                (module, args) -> {
                    module.answer(args);
                    return RunAll.DELIVERED;
                }, new RunAll<>(), completed -> "delivered");

        Decision<RunAll.Completed> decision = notification.decide("joined");

        assertThat(decision.result()).isEqualTo(new RunAll.Completed(2, 1));
        assertThat(calls.modules()).containsExactly("deep", "after");
    }

    /** A module built against a library the gateway does not ship fails when it first needs a class of it. */
    @Test
    void aModuleMissingAClassFailsAsAModuleFailure() {
        Decision<String> decision = compile(
                link("unlinked", recording("unlinked", calls, args -> {
                    throw new NoClassDefFoundError("com/example/RiskClient");
                }), FAIL_OPEN, Duration.ofSeconds(10)),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN)).decide("event");

        assertThat(decision.decidedBy()).contains("b");
        assertThat(observer.links()).first().satisfies(event -> {
            assertThat(event.outcome()).isEqualTo(LinkOutcome.FAILED);
            assertThat(event.failure()).isInstanceOf(NoClassDefFoundError.class);
        });
    }

    /** Out of memory is the JVM's trouble, not the module's: it is not answered as the module's abstention. */
    @Test
    void anOutOfMemoryErrorIsNoModulesFailureAndPropagates() {
        OutOfMemoryError exhausted = new OutOfMemoryError("Java heap space");
        for (Duration timeout : new Duration[] {null, Duration.ofSeconds(10)}) {
            ChainRunner.CompiledChain<String, String> chain = compile(
                    link("a", recording("a", calls, args -> {
                        throw exhausted;
                    }), FAIL_OPEN, timeout),
                    link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN));

            assertThat(catchThrowableOfType(OutOfMemoryError.class, () -> chain.decide("event"))).isSameAs(exhausted);
        }
        assertThat(calls.modules()).containsExactly("a", "a");
    }

    // --- deadlines ---

    @Test
    void failOpenModuleThatOverrunsItsTimeoutIsReportedTimedOutWithoutWaitingAndTheNextModuleDecides() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("slow", sleeping("slow", new CountDownLatch(1)), FAIL_OPEN, SHORT_TIMEOUT),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN));

        long start = System.nanoTime();
        Decision<String> decision = chain.decide("event");
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(elapsed).isLessThan(WELL_UNDER_THE_SLEEP);
        assertThat(decision.decidedBy()).contains("b");
        assertThat(observer.links()).first().satisfies(event -> {
            assertThat(event.module()).isEqualTo("slow");
            assertThat(event.outcome()).isEqualTo(LinkOutcome.TIMED_OUT);
            assertThat(event.failure()).isInstanceOf(TimeoutException.class).hasMessageContaining("100 ms");
        });
    }

    @Test
    void failClosedModuleThatOverrunsItsTimeoutFailsTheChainWithoutWaiting() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("slow", sleeping("slow", new CountDownLatch(1)), FAIL_CLOSED, SHORT_TIMEOUT),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_OPEN));

        long start = System.nanoTime();
        ModuleFailedException failure = failureOf(() -> chain.decide("event"));
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(elapsed).isLessThan(WELL_UNDER_THE_SLEEP);
        assertThat(failure).isNotNull().hasCauseInstanceOf(TimeoutException.class);
        assertThat(failure.module()).isEqualTo("slow");
        assertThat(calls.modules()).containsExactly("slow");
        assertThat(observer.links()).extracting(LinkEvent::outcome).containsExactly(LinkOutcome.TIMED_OUT);
    }

    @Test
    void moduleThatOverrunsItsTimeoutIsInterrupted() throws InterruptedException {
        CountDownLatch interrupted = new CountDownLatch(1);

        compile(link("slow", sleeping("slow", interrupted), FAIL_OPEN, SHORT_TIMEOUT)).decide("event");

        assertThat(interrupted.await(WELL_UNDER_THE_SLEEP.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }

    /** A module that answers {@code SPAM} once {@code release} opens, counting its calls running meanwhile. */
    private TestCallback stuckUntil(CountDownLatch release, AtomicInteger running) {
        return recording("stuck", calls, args -> {
            running.incrementAndGet();
            try {
                // deadlocked, as far as the gateway can tell: interruption does not end it
                while (release.getCount() > 0) {
                    try {
                        release.await();
                    } catch (InterruptedException ignored) {
                        // carries on waiting
                    }
                }
                return "SPAM";
            } finally {
                running.decrementAndGet();
            }
        });
    }

    /** Asks {@code chain} until its stuck module holds as many calls past their deadline as it may. */
    private static void holdAllTheOverrunsAllowed(ChainRunner.CompiledChain<String, String> chain, AtomicInteger running) {
        // in waves: a call whose deadline passes before its thread starts (a loaded machine) is never asked, nor counted
        for (int wave = 0; wave < 10 && running.get() < ChainRunner.MAX_OVERRUNNING_CALLS; wave++) {
            try (ExecutorService questions = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = running.get(); i < ChainRunner.MAX_OVERRUNNING_CALLS; i++) {
                    questions.submit(() -> chain.decide("event"));
                }
            }
        }
        assertThat(running.get()).isEqualTo(ChainRunner.MAX_OVERRUNNING_CALLS);
    }

    @Test
    void aModuleWhoseCallsDoNotStopWhenInterruptedIsNoLongerAskedOnceManyRunPastTheirDeadlineUntilOneEnds() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        ChainRunner.CompiledChain<String, String> chain = compile(link("stuck", stuckUntil(release, running), FAIL_OPEN, SHORT_TIMEOUT));
        holdAllTheOverrunsAllowed(chain, running);

        long start = System.nanoTime();
        Decision<String> refused = chain.decide("event");

        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not waiting for its deadline").isLessThan(SHORT_TIMEOUT);
        assertThat(refused.result()).isEqualTo(NOT_SPAM);
        assertThat(running.get()).as("not asked").isEqualTo(ChainRunner.MAX_OVERRUNNING_CALLS);
        assertThat(observer.links().getLast()).satisfies(event -> {
            assertThat(event.outcome()).isEqualTo(LinkOutcome.TIMED_OUT);
            assertThat(event.failure()).hasMessage("not asked: 64 of its calls still run past their 100 ms deadline, interrupted but not stopping");
        });

        release.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> running.get() == 0);
        // a call's end is counted once the module returned: its overrun ends a moment after the module's own count
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(chain.decide("event").result()).as("asked again, and answering in time").isEqualTo("SPAM"));
    }

    @Test
    void theLinksOfOneModuleInstanceCountTheirCallsPastTheDeadlineTogetherInEveryChainCompiledFromThem() {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        TestCallback stuck = stuckUntil(release, running);
        Overruns instances = new Overruns();
        holdAllTheOverrunsAllowed(compile(new Link<>("stuck", stuck, FAIL_OPEN, SHORT_TIMEOUT, Link.Mode.ENFORCE, instances)), running);
        try {
            // another callback's link of the same instance, or the chain a reload compiles again
            ChainRunner.CompiledChain<String, String> again = compile(
                    new Link<>("stuck", stuck, FAIL_OPEN, SHORT_TIMEOUT, Link.Mode.ENFORCE, instances));
            ChainRunner.CompiledChain<String, String> anotherInstance = compile(link("stuck", stuck, FAIL_OPEN, SHORT_TIMEOUT));

            assertThat(again.decide("event").result()).isEqualTo(NOT_SPAM);
            assertThat(observer.links().getLast().failure()).hasMessageStartingWith("not asked: 64 of its calls");
            assertThat(instances.running()).isEqualTo(ChainRunner.MAX_OVERRUNNING_CALLS);
            assertThat(anotherInstance.decide("event").result()).isEqualTo(NOT_SPAM);
            assertThat(observer.links().getLast().failure()).as("asked, and late in its turn").hasMessage("no answer within 100 ms");
        } finally {
            release.countDown();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> instances.running() == 0);
    }

    @Test
    void moduleWithAnEnormousTimeoutIsAnsweredNormally() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("patient", answeringModule("patient", calls, "SPAM"), FAIL_OPEN, Duration.ofDays(365_000)));

        assertThat(chain.decide("event").decidedBy()).contains("patient");
        assertThat(observer.links()).extracting(LinkEvent::outcome).containsExactly(LinkOutcome.ANSWERED);
    }

    @Test
    void interruptingTheCallerAbortsTheWalkInsteadOfBlamingTheModule() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("slow", sleeping("slow", new CountDownLatch(1)), FAIL_OPEN, Duration.ofSeconds(10)),
                link("b", answeringModule("b", calls, NOT_SPAM), FAIL_OPEN));

        Thread.currentThread().interrupt();
        try {
            Throwable thrown = catchThrowableOfType(ChainRunner.CallerInterrupted.class, () -> chain.decide("event"));

            assertThat(thrown).isNotNull();
            assertThat(calls.modules()).doesNotContain("b");
            assertThat(observer.links()).isEmpty();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void moduleThatThrowsWithinItsTimeoutIsReportedFailedWithItsOwnException() {
        IllegalArgumentException thrown = new IllegalArgumentException("bad event");
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("a", recording("a", calls, args -> {
                    throw thrown;
                }), FAIL_CLOSED, Duration.ofSeconds(10)));

        ModuleFailedException failure = failureOf(() -> chain.decide("event"));

        assertThat(failure).isNotNull().hasCauseReference(thrown);
        assertThat(observer.links()).singleElement().satisfies(event -> {
            assertThat(event.outcome()).isEqualTo(LinkOutcome.FAILED);
            assertThat(event.failure()).isSameAs(thrown);
        });
    }

    @Test
    void moduleThatAnswersWithinItsTimeoutIsAnswered() {
        Decision<String> decision = compile(
                link("a", answeringModule("a", calls, "SPAM"), FAIL_CLOSED, Duration.ofSeconds(10)))
                .decide("event");

        assertThat(decision.result()).isEqualTo("SPAM");
        assertThat(decision.decidedBy()).contains("a");
        assertThat(observer.links()).extracting(LinkEvent::outcome).containsExactly(LinkOutcome.ANSWERED);
    }

    /** The thread the module of the link {@code linkTo} makes ran on, when the chain is asked from this one. */
    private Thread threadAsked(Function<TestCallback, Link<TestCallback>> linkTo) {
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        compile(linkTo.apply(recording("a", calls, args -> {
            ranOn.set(Thread.currentThread());
            return NOT_SPAM;
        }))).decide("event");
        return ranOn.get();
    }

    @Test
    void linkWithoutTimeoutRunsOnTheCallingThread() {
        assertThat(threadAsked(module -> link("a", module, FAIL_CLOSED))).isSameAs(Thread.currentThread());
    }

    @Test
    void linkWithTimeoutRunsOffTheCallingThread() {
        assertThat(threadAsked(module -> link("a", module, FAIL_CLOSED, Duration.ofSeconds(10))))
                .isNotNull().isNotSameAs(Thread.currentThread());
    }

    // --- what the modules and the rule see ---

    @Test
    void eachCalledModuleIsAskedWithTheArgsGivenToDecide() {
        compile(
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_CLOSED),
                link("b", answeringModule("b", calls, NOT_SPAM), FAIL_CLOSED, Duration.ofSeconds(10)))
                .decide("event");

        assertThat(calls.args()).containsExactly("event", "event");
    }

    @Test
    void emptyChainDecidesTheRuleDefault() {
        ChainRunner.CompiledChain<String, String> chain = compile();

        Decision<String> decision = chain.decide("event");

        assertThat(chain.isEmpty()).isTrue();
        assertThat(decision.result()).isEqualTo(NOT_SPAM);
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(observer.links()).isEmpty();
        assertThat(observer.decided()).singleElement().extracting(RecordingObserver.Decided::outcome)
                .isEqualTo("allow");
    }

    @Test
    void compiledChainKnowsItsCallbackAndModulesInOrder() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("b", answeringModule("b", calls, NOT_SPAM), FAIL_OPEN),
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_OPEN));

        assertThat(chain.callback()).isEqualTo(CALLBACK);
        assertThat(chain.modules()).containsExactly("b", "a");
        assertThat(chain.isEmpty()).isFalse();
    }

    // --- shadow links ---

    @Test
    void aShadowEntryThatRefusesLetsTheNextEntryDecide() {
        Decision<String> decision = compile(
                shadowLink("trial", answeringModule("trial", calls, "SPAM"), FAIL_CLOSED),
                link("b", answeringModule("b", calls, "M_FORBIDDEN"), FAIL_CLOSED)).decide("event");

        assertThat(decision.result()).isEqualTo("M_FORBIDDEN");
        assertThat(decision.decidedBy()).contains("b");
        assertThat(calls.modules()).containsExactly("trial", "b");
    }

    @Test
    void aShadowEntryThatRefusesWhenEveryOtherFallsThroughLeavesTheRuleDefault() {
        Decision<String> decision = compile(
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_CLOSED),
                shadowLink("trial", answeringModule("trial", calls, "SPAM"), FAIL_CLOSED)).decide("event");

        assertThat(decision.result()).isEqualTo(NOT_SPAM);
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void aShadowEntrysAnswerIsHandedBackInTheDecisionWithWhetherItWouldHaveDecided() {
        Decision<String> decision = compile(
                shadowLink("refuses", answeringModule("refuses", calls, "SPAM"), FAIL_CLOSED),
                shadowLink("passes", answeringModule("passes", calls, NOT_SPAM), FAIL_CLOSED),
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_CLOSED)).decide("event");

        assertThat(decision.shadowAnswers()).containsExactly(
                new ShadowAnswer<>("refuses", new Reply.Answered<>("SPAM"), true),
                new ShadowAnswer<>("passes", new Reply.Answered<>(NOT_SPAM), false));
    }

    @Test
    void aChainThatFailsClosedHandsBackTheShadowAnswersAskedBeforeTheFailure() {
        ModuleFailedException failure = failureOf(() -> compile(
                shadowLink("refuses", answeringModule("refuses", calls, "SPAM"), FAIL_CLOSED),
                link("broken", throwingModule("broken", calls), FAIL_CLOSED),
                shadowLink("never-asked", answeringModule("never-asked", calls, "SPAM"), FAIL_CLOSED)).decide("event"));

        assertThat(failure.module()).isEqualTo("broken");
        assertThat(failure.shadowAnswers()).containsExactly(new ShadowAnswer<>("refuses", new Reply.Answered<>("SPAM"), true));
    }

    @Test
    void aFailingShadowEntryNeverFailsTheChainEvenWhenItFailsClosed() {
        Decision<String> decision = compile(
                shadowLink("trial", throwingModule("trial", calls), FAIL_CLOSED),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_CLOSED)).decide("event");

        assertThat(decision.decidedBy()).contains("b");
        assertThat(decision.shadowAnswers()).containsExactly(new ShadowAnswer<>("trial",
                new Reply.Failed<>(LinkOutcome.FAILED, "IllegalStateException: trial is broken"), false));
        assertThat(observer.failed()).isEmpty();
    }

    @Test
    void aShadowEntryThatOverrunsItsDeadlineIsRecordedTimedOutWithoutWaitingAndTheChainGoesOn() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                shadowLink("slow", sleeping("slow", new CountDownLatch(1)), FAIL_CLOSED, SHORT_TIMEOUT),
                link("b", answeringModule("b", calls, "SPAM"), FAIL_CLOSED));

        long start = System.nanoTime();
        Decision<String> decision = chain.decide("event");

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(WELL_UNDER_THE_SLEEP);
        assertThat(decision.decidedBy()).contains("b");
        assertThat(decision.shadowAnswers()).singleElement().satisfies(answer -> {
            assertThat(answer.module()).isEqualTo("slow");
            assertThat(answer.reply()).isEqualTo(
                    new Reply.Failed<>(LinkOutcome.TIMED_OUT, "TimeoutException: no answer within 100 ms"));
        });
    }

    @Test
    void aShadowEntryRunsOnTheThreadAnyEntryWithItsDeadlineWouldRunOn() {
        assertThat(threadAsked(module -> shadowLink("a", module, FAIL_CLOSED))).isSameAs(Thread.currentThread());
        assertThat(threadAsked(module -> shadowLink("a", module, FAIL_CLOSED, Duration.ofSeconds(10))))
                .isNotNull().isNotSameAs(Thread.currentThread());
    }

    @Test
    void aChainWithoutShadowEntriesHandsBackNoShadowAnswers() {
        Decision<String> decision = compile(link("a", answeringModule("a", calls, "SPAM"), FAIL_CLOSED)).decide("event");

        assertThat(decision.shadowAnswers()).isEmpty();
        assertThat(observer.shadows()).isEmpty();
    }

    @Test
    void observerSeesEachShadowReplyWithItsOutcomeLabelAfterTheLinkCall() {
        compile(
                shadowLink("refuses", answeringModule("refuses", calls, "SPAM"), FAIL_OPEN),
                shadowLink("throws", throwingModule("throws", calls), FAIL_CLOSED),
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_CLOSED)).decide("event");

        assertThat(observer.shadows()).extracting(shadow -> shadow.answer().module(), RecordingObserver.Shadow::outcome)
                .containsExactly(tuple("refuses", "deny"), tuple("throws", "failed"));
        assertThat(observer.links()).extracting(LinkEvent::module, LinkEvent::outcome).containsExactly(
                tuple("refuses", LinkOutcome.ANSWERED), tuple("throws", LinkOutcome.FAILED), tuple("a", LinkOutcome.ANSWERED));
        assertThat(observer.decided()).singleElement().satisfies(decided -> {
            assertThat(decided.outcome()).isEqualTo("allow");
            assertThat(decided.decision().decidedBy()).isEmpty();
        });
    }

    // --- the observer ---

    @Test
    void observerSeesLinkCompletedForEachCalledLinkWithItsOutcome() {
        IllegalStateException thrown = new IllegalStateException("broken");
        compile(
                link("answers", answeringModule("answers", calls, NOT_SPAM), FAIL_OPEN),
                link("throws", recording("throws", calls, args -> {
                    throw thrown;
                }), FAIL_OPEN),
                link("slow", sleeping("slow", new CountDownLatch(1)), FAIL_OPEN, SHORT_TIMEOUT),
                link("decides", answeringModule("decides", calls, "SPAM"), FAIL_OPEN),
                link("never", answeringModule("never", calls, "SPAM"), FAIL_OPEN))
                .decide("event");

        assertThat(observer.links()).containsExactly(
                new LinkEvent(CALLBACK, "answers", LinkOutcome.ANSWERED, null),
                new LinkEvent(CALLBACK, "throws", LinkOutcome.FAILED, thrown),
                observer.links().get(2),
                new LinkEvent(CALLBACK, "decides", LinkOutcome.ANSWERED, null));
        assertThat(observer.links().get(2)).satisfies(event -> {
            assertThat(event.callback()).isEqualTo(CALLBACK);
            assertThat(event.module()).isEqualTo("slow");
            assertThat(event.outcome()).isEqualTo(LinkOutcome.TIMED_OUT);
        });
    }

    @Test
    void observerSeesChainDecidedWithTheOutcomeLabelFromTheLabeller() {
        ChainRunner.CompiledChain<String, String> denying = compile(
                link("a", answeringModule("a", calls, "SPAM"), FAIL_CLOSED));
        ChainRunner.CompiledChain<String, String> allowing = compile(
                link("a", answeringModule("a", calls, NOT_SPAM), FAIL_CLOSED));

        Decision<String> denied = denying.decide("event");
        Decision<String> allowed = allowing.decide("event");

        assertThat(observer.decided()).containsExactly(
                new RecordingObserver.Decided(CALLBACK, denied, "deny"),
                new RecordingObserver.Decided(CALLBACK, allowed, "allow"));
        assertThat(observer.failed()).isEmpty();
    }

    @Test
    void observerSeesChainFailedOnFailClosedFailureAndNoChainDecided() {
        ChainRunner.CompiledChain<String, String> chain = compile(
                link("a", throwingModule("a", calls), FAIL_CLOSED));

        ModuleFailedException failure = failureOf(() -> chain.decide("event"));

        assertThat(observer.failed()).containsExactly(new RecordingObserver.Failed(CALLBACK, failure));
        assertThat(observer.decided()).isEmpty();
        assertThat(observer.links()).extracting(LinkEvent::outcome).containsExactly(LinkOutcome.FAILED);
    }
}
