package dev.matrixpolicy.gateway.chain;

import java.util.Locale;

/**
 * Sees every link call and every chain evaluation of {@link ChainRunner.CompiledChain#decide}; the seam
 * where metrics and logs attach. {@link ChainRunner.CompiledChain#explain Explanations} are not
 * reported. Implementations must be cheap and must not throw.
 */
public interface ChainObserver {

    /** How one link call ended. */
    enum LinkOutcome {
        ANSWERED, FAILED, TIMED_OUT;

        /** Made once: every link call's metrics ask for it (lower-casing it each time was 1.6 % of a {@code user_may_invite}'s CPU). */
        private final String label = name().toLowerCase(Locale.ROOT);

        /** The outcome as a metric tag or log value: {@code answered}, {@code failed}, {@code timed_out}. */
        public String label() {
            return label;
        }
    }

    void linkCompleted(String callback, String module, long nanos, LinkOutcome outcome, Throwable failure);

    /**
     * Called when a chain produced a decision (not when it failed closed).
     *
     * @param outcome the decision's low-cardinality label, as given to {@link ChainRunner#compile}
     */
    void chainDecided(String callback, Decision<?> decision, String outcome, long nanos);

    /** Called when a chain stopped because a module failed closed. */
    void chainFailed(String callback, ModuleFailedException failure, long nanos);

    /**
     * Called when a {@link Link.Mode#SHADOW shadow} link replied, after {@link #linkCompleted} for the
     * same call. Explaining a chain ({@link ChainRunner.CompiledChain#explain}) is not reported.
     *
     * @param outcome the answer's label, as {@link #chainDecided} gets it for a decision, or the
     *                {@link LinkOutcome#label() label} of the failure
     */
    default void shadowAnswered(String callback, ShadowAnswer<?> answer, String outcome) {
    }

    ChainObserver NONE = new ChainObserver() {
        @Override
        public void linkCompleted(String callback, String module, long nanos, LinkOutcome outcome, Throwable failure) {
        }

        @Override
        public void chainDecided(String callback, Decision<?> decision, String outcome, long nanos) {
        }

        @Override
        public void chainFailed(String callback, ModuleFailedException failure, long nanos) {
        }
    };
}
