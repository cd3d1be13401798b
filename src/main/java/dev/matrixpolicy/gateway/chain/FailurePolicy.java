package dev.matrixpolicy.gateway.chain;

/**
 * What a chain does when one of its modules throws, returns nothing, or times out. What it throws may
 * be an {@link Error} of its own (a {@link StackOverflowError}, a {@link LinkageError}); only the JVM's
 * own trouble, a {@link VirtualMachineError} other than a stack overflow (out of memory), is no module's
 * failure and propagates.
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
