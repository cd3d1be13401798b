package dev.matrixpolicy.gateway.chain;

import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Turns a {@link Chain} into something that answers questions: it binds each link to the callback
 * method to call, enforces each link's deadline, failure policy and mode, and reports to a
 * {@link ChainObserver}. One instance serves every chain of the application.
 */
public final class ChainRunner implements AutoCloseable {
    /**
     * How many calls of one module instance may still run past their deadline (a module that does not
     * stop when interrupted: deadlocked, or waiting in a way that ignores interruption) before it is no
     * longer asked: each such call keeps its thread, and a module stuck for good would otherwise
     * gather one per question until memory runs out. While this many run, each of its links times out
     * at once; as each call ends, it is asked again. Counted per instance, across its callbacks and
     * compiled chains ({@link Overruns}).
     */
    public static final int MAX_OVERRUNNING_CALLS = 64;
    /** A deadline call's states: its deadline settles what its end counts, and its end what its deadline does. */
    private static final int NOT_STARTED = 0;
    private static final int RUNNING = 1;
    private static final int LATE = 2;
    private static final int ENDED = 3;
    private static final int ABANDONED = 4;

    private final ChainObserver observer;
    private final ExecutorService deadlineExecutor;

    public ChainRunner(ChainObserver observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
        // A link with a deadline runs on its own virtual thread so the caller can stop waiting.
        this.deadlineExecutor = Executors.newVirtualThreadPerTaskExecutor();
    }

    /**
     * Binds a chain to its callback method and rule. Done once per chain, at startup.
     *
     * @param call    how to ask one module, e.g. {@code UserMayInvite::userMayInvite}
     * @param outcome labels a decision for the observer, e.g. {@code allow} or {@code deny}
     */
    public <C, A, R> CompiledChain<A, R> compile(Chain<C> chain, BiFunction<? super C, ? super A, ? extends R> call,
                                                  ChainRule<A, R> rule, Function<? super R, String> outcome) {
        List<LinkAsker<C, A, R>> askers = chain.links().stream()
                .map(link -> new LinkAsker<C, A, R>(chain.callback(), link, call))
                .toList();
        return new CompiledChain<>(chain.callback(), askers, rule, outcome);
    }

    @Override
    public void close() {
        deadlineExecutor.shutdownNow();
    }

    /** A chain ready to be asked. Immutable and safe to share between threads. */
    public final class CompiledChain<A, R> {
        private final String callback;
        private final List<? extends LinkAsker<?, A, R>> links;
        private final ChainRule<A, R> rule;
        private final Function<? super R, String> outcome;
        /** Reports each link call to the observer, keeping nothing: all a walk of {@link #decide} needs without shadow links. */
        private final Walk<R> toObserver;
        /** The links asked in {@link #toObserver}, built once. */
        private final List<Asker<A, R>> observed;
        private final boolean hasShadowLinks;

        private CompiledChain(String callback, List<? extends LinkAsker<?, A, R>> links, ChainRule<A, R> rule,
                              Function<? super R, String> outcome) {
            this.callback = callback;
            this.links = links;
            this.rule = Objects.requireNonNull(rule, "rule");
            this.outcome = Objects.requireNonNull(outcome, "outcome");
            this.toObserver = (link, nanos, linkOutcome, answer, failure) ->
                    observer.linkCompleted(callback, link.module(), nanos, linkOutcome, failure);
            this.observed = askedIn(toObserver);
            this.hasShadowLinks = links.stream().anyMatch(LinkAsker::shadow);
        }

        public String callback() {
            return callback;
        }

        public List<String> modules() {
            return links.stream().map(LinkAsker::module).toList();
        }

        public boolean isEmpty() {
            return links.isEmpty();
        }

        /**
         * Whether a walk asks any module: false for an empty chain, and for a notification chain of shadow
         * links only ({@link ChainRule#asksShadowLinks}), whose questions nobody need send.
         */
        public boolean asksAnyModule() {
            return links.stream().anyMatch(link -> !link.shadow() || rule.asksShadowLinks());
        }

        /**
         * Walks the chain with its rule. Shadow links' replies come back in
         * {@link Decision#shadowAnswers()}.
         *
         * @throws ModuleFailedException when a module failed on an enforcing link that fails closed
         */
        public Decision<R> decide(A args) {
            long start = System.nanoTime();
            try {
                Decision<R> decision = hasShadowLinks ? new Recorded(false).walk(args) : rule.evaluate(observed, args);
                observer.chainDecided(callback, decision, outcome.apply(decision.result()), System.nanoTime() - start);
                return decision;
            } catch (ModuleFailedException failure) {
                observer.chainFailed(callback, failure, System.nanoTime() - start);
                throw failure;
            }
        }

        /**
         * Walks the chain as {@link #decide} does (the modules are really asked) and tells every step.
         * The outcome is what {@code decide} would have answered or thrown. An explanation is not a
         * decision: the observer hears nothing of it, so metrics count only real questions; and the
         * modules are asked as a {@link DryRun}, so those that keep state leave it as it was.
         *
         * @throws CallerInterrupted as {@code decide} does
         */
        public Trace<R> explain(A args) {
            Recorded walk = new Recorded(true);
            Trace.Outcome<R> ended;
            try {
                ended = DryRun.during(() -> new Trace.Decided<>(walk.walk(args)));
            } catch (ModuleFailedException failure) {
                ended = new Trace.FailedClosed<>(failure);
            }
            return new Trace<>(walk.steps, ended);
        }

        private List<Asker<A, R>> askedIn(Walk<R> walk) {
            return links.stream().<Asker<A, R>>map(link -> link.askedIn(walk)).toList();
        }

        /**
         * One walk that keeps what its shadow links replied and, when explaining, every step; a walk
         * that decides also reports to the observer.
         */
        private final class Recorded implements Walk<R> {
            private final boolean explaining;
            private final List<Trace.Step<R>> steps;
            private final List<ShadowAnswer<R>> shadowAnswers = new ArrayList<>();

            Recorded(boolean explaining) {
                this.explaining = explaining;
                this.steps = explaining ? new ArrayList<>() : List.of();
            }

            Decision<R> walk(A args) {
                try {
                    return rule.evaluate(askedIn(this), args).withShadowAnswers(shadowAnswers);
                } catch (ModuleFailedException failed) {
                    throw shadowAnswers.isEmpty() ? failed : failed.withShadowAnswers(shadowAnswers);
                }
            }

            @Override
            public void replied(LinkAsker<?, ?, R> link, long nanos, LinkOutcome linkOutcome, R answer, Throwable failure) {
                if (!explaining) {
                    toObserver.replied(link, nanos, linkOutcome, answer, failure);
                }
                if (!explaining && !link.shadow()) {
                    return;
                }
                Reply<R> reply = answer != null ? new Reply.Answered<>(answer) : Reply.Failed.of(linkOutcome, failure);
                if (explaining) {
                    steps.add(new Trace.Step<>(link.module(), link.shadow(), reply, nanos));
                }
                if (link.shadow()) {
                    ShadowAnswer<R> shadowAnswer = new ShadowAnswer<>(link.module(), reply, answer != null && rule.decides(answer));
                    shadowAnswers.add(shadowAnswer);
                    if (!explaining) {
                        observer.shadowAnswered(callback, shadowAnswer,
                                answer != null ? outcome.apply(answer) : linkOutcome.label());
                    }
                }
            }
        }
    }

    /**
     * Where a link call is reported, by the link that made it: the observer, and for a walk that keeps
     * them, its shadow answers or steps. Exactly one of {@code answer} and {@code failure} is given.
     */
    @FunctionalInterface
    private interface Walk<R> {
        void replied(LinkAsker<?, ?, R> link, long nanos, LinkOutcome outcome, R answer, Throwable failure);
    }

    /**
     * The thread asking the chain was interrupted (the server is shutting down, say). That is not the
     * module's failure: the whole walk stops instead of treating the module as failed.
     */
    public static final class CallerInterrupted extends RuntimeException {
        CallerInterrupted(InterruptedException cause) {
            super("interrupted while waiting for a module", cause);
        }
    }

    /** One link bound to its callback method, deadline and failure policy; asked within a {@link Walk}. */
    private final class LinkAsker<C, A, R> {
        private final String callback;
        private final Link<C> link;
        private final BiFunction<? super C, ? super A, ? extends R> call;

        LinkAsker(String callback, Link<C> link, BiFunction<? super C, ? super A, ? extends R> call) {
            this.callback = callback;
            this.link = link;
            this.call = call;
        }

        String module() {
            return link.module();
        }

        boolean shadow() {
            return link.shadow();
        }

        /** This link as a rule sees it, reporting its calls to {@code walk}. */
        Asker<A, R> askedIn(Walk<R> walk) {
            return new Asker<>() {
                @Override
                public String module() {
                    return link.module();
                }

                @Override
                public boolean shadow() {
                    return link.shadow();
                }

                @Override
                public Optional<R> ask(A args) {
                    return LinkAsker.this.ask(args, walk);
                }
            };
        }

        private Optional<R> ask(A args, Walk<R> walk) {
            long start = System.nanoTime();
            R answer;
            try {
                answer = invoke(args);
            } catch (CallerInterrupted interrupted) {
                throw interrupted;
            } catch (TimeoutException timeout) {
                return failed(LinkOutcome.TIMED_OUT, timeout, start, walk);
            } catch (Throwable failure) {
                // not only unchecked: a module in another JVM language (or one throwing sneakily) may throw a
                // checked exception, which is as much its failure when it runs inline as on a deadline thread;
                // and not only exceptions: a module that overflows its stack (recursing into an event nested
                // thousands deep) or misses a class has failed, the JVM has not
                if (failure instanceof VirtualMachineError jvm && !(jvm instanceof StackOverflowError)) {
                    throw jvm; // out of memory, an internal error: the JVM's trouble, not this module's
                }
                return failed(LinkOutcome.FAILED, failure, start, walk);
            }
            if (answer == null) {
                return failed(LinkOutcome.FAILED, new IllegalStateException("the module returned null"), start, walk);
            }
            walk.replied(this, System.nanoTime() - start, LinkOutcome.ANSWERED, answer, null);
            return link.shadow() ? Optional.empty() : Optional.of(answer);
        }

        private R invoke(A args) throws TimeoutException {
            Duration timeout = link.timeout();
            if (timeout == null) {
                return call.apply(link.callback(), args);
            }
            Overruns overruns = link.overruns();
            int running = overruns.running();
            if (running >= MAX_OVERRUNNING_CALLS) {
                throw new TimeoutException("not asked: " + running + " of its calls still run past their " + timeout.toMillis()
                        + " ms deadline, interrupted but not stopping");
            }
            long deadlineNanos = TimeUnit.NANOSECONDS.convert(timeout); // saturates instead of overflowing
            AtomicInteger state = new AtomicInteger(NOT_STARTED);
            Future<? extends R> pending = deadlineExecutor.submit(DryRun.carried(() -> {
                if (!state.compareAndSet(NOT_STARTED, RUNNING)) {
                    return null; // its deadline passed before it started: never asked
                }
                try {
                    return call.apply(link.callback(), args);
                } finally {
                    if (state.getAndSet(ENDED) == LATE) {
                        overruns.ended();
                    }
                }
            }));
            try {
                return pending.get(deadlineNanos, TimeUnit.NANOSECONDS);
            } catch (TimeoutException timedOut) {
                overruns.started(); // before it is marked late, so that its end never counts down first
                if (state.getAndUpdate(now -> now == RUNNING ? LATE : now == NOT_STARTED ? ABANDONED : now) != RUNNING) {
                    overruns.ended(); // it ended meanwhile, or never started
                }
                pending.cancel(true);
                TimeoutException described = new TimeoutException("no answer within " + timeout.toMillis() + " ms");
                described.initCause(timedOut);
                throw described;
            } catch (ExecutionException thrown) {
                Throwable cause = thrown.getCause();
                if (cause instanceof Error error) {
                    throw error;
                }
                throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
            } catch (InterruptedException interrupted) {
                pending.cancel(true);
                Thread.currentThread().interrupt();
                throw new CallerInterrupted(interrupted);
            }
        }

        private Optional<R> failed(LinkOutcome outcome, Throwable failure, long start, Walk<R> walk) {
            walk.replied(this, System.nanoTime() - start, outcome, null, failure);
            if (link.shadow() || link.onFailure() == FailurePolicy.FAIL_OPEN) {
                return Optional.empty();
            }
            throw new ModuleFailedException(callback, link.module(), failure);
        }
    }
}
