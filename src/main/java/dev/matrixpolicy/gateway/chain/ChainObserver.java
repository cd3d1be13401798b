package dev.matrixpolicy.gateway.chain;

/**
 * Sees every link call and every chain evaluation; the seam where metrics and logs attach.
 * Implementations must be cheap and must not throw.
 */
public interface ChainObserver {

    /** How one link call ended. */
    enum LinkOutcome { ANSWERED, FAILED, TIMED_OUT }

    void linkCompleted(String callback, String module, long nanos, LinkOutcome outcome, Throwable failure);

    /**
     * Called when a chain produced a decision (not when it failed closed).
     *
     * @param outcome the decision's low-cardinality label, as given to {@link ChainRunner#compile}
     */
    void chainDecided(String callback, Decision<?> decision, String outcome, long nanos);

    /** Called when a chain stopped because a module failed closed. */
    void chainFailed(String callback, ModuleFailedException failure, long nanos);

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
