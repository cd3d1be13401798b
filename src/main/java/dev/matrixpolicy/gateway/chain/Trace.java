package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.Objects;

/**
 * One walk of a chain, told in full: every link asked, in order, and how the walk ended. Links after
 * the one that decided (or failed closed) were not asked and are not listed; the chain's
 * {@link ChainRunner.CompiledChain#modules() modules} name them.
 *
 * @param steps   the links asked, in order, shadow ones included
 * @param outcome the decision, or the fail-closed failure that stopped the walk
 * @param <R>     the callback's result type
 */
public record Trace<R>(List<Step<R>> steps, Outcome<R> outcome) {
    public Trace {
        steps = List.copyOf(steps);
        Objects.requireNonNull(outcome, "outcome");
    }

    /**
     * One link asked.
     *
     * @param module the module instance name
     * @param shadow whether the link was a {@link Link.Mode#SHADOW shadow} link, whose reply did not count
     * @param reply  the module's answer, or how it failed
     * @param nanos  how long the call took, the wait for a deadline included
     */
    public record Step<R>(String module, boolean shadow, Reply<R> reply, long nanos) {
        public Step {
            Objects.requireNonNull(module, "module");
            Objects.requireNonNull(reply, "reply");
        }
    }

    /** How the walk ended. */
    public sealed interface Outcome<R> {
    }

    /** The chain decided, as {@link ChainRunner.CompiledChain#decide} would have answered. */
    public record Decided<R>(Decision<R> decision) implements Outcome<R> {
        public Decided {
            Objects.requireNonNull(decision, "decision");
        }
    }

    /** A module failed on a fail-closed link, as {@link ChainRunner.CompiledChain#decide} would have thrown. */
    public record FailedClosed<R>(ModuleFailedException failure) implements Outcome<R> {
        public FailedClosed {
            Objects.requireNonNull(failure, "failure");
        }
    }

    /** The trace of a chain with no link: nobody was asked and {@code decision} stands. */
    public static <R> Trace<R> unasked(Decision<R> decision) {
        return new Trace<>(List.of(), new Decided<>(decision));
    }
}
