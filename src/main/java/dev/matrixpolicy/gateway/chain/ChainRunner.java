package dev.matrixpolicy.gateway.chain;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Turns a {@link Chain} into something that answers questions: it binds each link to the callback
 * method to call, enforces each link's deadline and failure policy, and reports to a
 * {@link ChainObserver}. One instance serves every chain of the application.
 */
public final class ChainRunner implements AutoCloseable {
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
        private final List<? extends Asker<A, R>> links;
        private final ChainRule<A, R> rule;
        private final Function<? super R, String> outcome;

        private CompiledChain(String callback, List<? extends Asker<A, R>> links, ChainRule<A, R> rule,
                              Function<? super R, String> outcome) {
            this.callback = callback;
            this.links = links;
            this.rule = Objects.requireNonNull(rule, "rule");
            this.outcome = Objects.requireNonNull(outcome, "outcome");
        }

        public String callback() {
            return callback;
        }

        public List<String> modules() {
            return links.stream().map(Asker::module).toList();
        }

        public boolean isEmpty() {
            return links.isEmpty();
        }

        /**
         * Walks the chain with its rule.
         *
         * @throws ModuleFailedException when a module failed on a link that fails closed
         */
        public Decision<R> decide(A args) {
            long start = System.nanoTime();
            try {
                Decision<R> decision = rule.evaluate(links, args);
                observer.chainDecided(callback, decision, outcome.apply(decision.result()), System.nanoTime() - start);
                return decision;
            } catch (ModuleFailedException failure) {
                observer.chainFailed(callback, failure, System.nanoTime() - start);
                throw failure;
            }
        }
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

    private final class LinkAsker<C, A, R> implements Asker<A, R> {
        private final String callback;
        private final Link<C> link;
        private final BiFunction<? super C, ? super A, ? extends R> call;

        LinkAsker(String callback, Link<C> link, BiFunction<? super C, ? super A, ? extends R> call) {
            this.callback = callback;
            this.link = link;
            this.call = call;
        }

        @Override
        public String module() {
            return link.module();
        }

        @Override
        public Optional<R> ask(A args) {
            long start = System.nanoTime();
            R answer;
            try {
                answer = invoke(args);
            } catch (CallerInterrupted interrupted) {
                throw interrupted;
            } catch (TimeoutException timeout) {
                return failed(ChainObserver.LinkOutcome.TIMED_OUT, timeout, start);
            } catch (RuntimeException failure) {
                return failed(ChainObserver.LinkOutcome.FAILED, failure, start);
            }
            if (answer == null) {
                return failed(ChainObserver.LinkOutcome.FAILED,
                        new IllegalStateException("the module returned null"), start);
            }
            observer.linkCompleted(callback, link.module(), System.nanoTime() - start,
                    ChainObserver.LinkOutcome.ANSWERED, null);
            return Optional.of(answer);
        }

        private R invoke(A args) throws TimeoutException {
            Duration timeout = link.timeout();
            if (timeout == null) {
                return call.apply(link.callback(), args);
            }
            long deadlineNanos = TimeUnit.NANOSECONDS.convert(timeout); // saturates instead of overflowing
            Future<? extends R> pending = deadlineExecutor.submit(() -> call.apply(link.callback(), args));
            try {
                return pending.get(deadlineNanos, TimeUnit.NANOSECONDS);
            } catch (TimeoutException timedOut) {
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

        private Optional<R> failed(ChainObserver.LinkOutcome outcome, Exception failure, long start) {
            observer.linkCompleted(callback, link.module(), System.nanoTime() - start, outcome, failure);
            if (link.onFailure() == FailurePolicy.FAIL_OPEN) {
                return Optional.empty();
            }
            throw new ModuleFailedException(callback, link.module(), failure);
        }
    }
}
