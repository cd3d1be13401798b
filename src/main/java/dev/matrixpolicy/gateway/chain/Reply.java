package dev.matrixpolicy.gateway.chain;

import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import java.util.Objects;

/**
 * What one module gave when its link was asked: an answer, or how it failed. Whether the answer
 * counted is not the reply's business; it is the link's mode and the chain's rule.
 *
 * @param <R> the callback's result type
 */
public sealed interface Reply<R> {

    LinkOutcome outcome();

    /** The module answered; {@code answer} is what it returned. */
    record Answered<R>(R answer) implements Reply<R> {
        public Answered {
            Objects.requireNonNull(answer, "answer");
        }

        @Override
        public LinkOutcome outcome() {
            return LinkOutcome.ANSWERED;
        }
    }

    /**
     * The module threw, returned nothing or overran its deadline.
     *
     * @param outcome {@link LinkOutcome#FAILED} or {@link LinkOutcome#TIMED_OUT}
     * @param failure what went wrong, e.g. {@code TimeoutException: no answer within 100 ms}
     */
    record Failed<R>(LinkOutcome outcome, String failure) implements Reply<R> {
        public Failed {
            Objects.requireNonNull(failure, "failure");
            if (outcome == null || outcome == LinkOutcome.ANSWERED) {
                throw new IllegalArgumentException("a failed reply is failed or timed out, not " + outcome);
            }
        }

        static <R> Failed<R> of(LinkOutcome outcome, Throwable failure) {
            return new Failed<>(outcome, ModuleFailedException.describe(failure));
        }
    }
}
