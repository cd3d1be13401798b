package dev.matrixpolicy.gateway.chain;

/**
 * What a chain does when one of its modules throws an exception, returns nothing, or times out.
 * JVM {@link Error}s are not module failures: they propagate.
 */
public enum FailurePolicy {
    /**
     * The chain stops and the whole question fails, as in Synapse, where an exception raised
     * by a module callback propagates and fails the operation.
     */
    FAIL_CLOSED,
    /** The failed module is treated as if it had abstained; the chain goes on to the next link. */
    FAIL_OPEN
}
