package dev.matrixpolicy.gateway.module;

/**
 * What a module answers when its backend cannot answer: it is down, slow, or replies something the
 * module cannot use. Bound from {@code fail-closed} or {@code fail-open} (a module's
 * {@code failure-mode} key); each module documents what the two mean for its callbacks and which
 * is its default.
 *
 * <p>Not the entry's {@code on-failure} ({@link dev.matrixpolicy.gateway.chain.FailurePolicy}):
 * that one says what the chain does when the module itself fails; this one is the module's own,
 * ordinary answer to an expected backend failure.
 */
public enum FailureMode {
    /** Refuse: the answer that denies (the request, the event, the 3PID) where the callback has one. */
    FAIL_CLOSED,
    /** Let through: the answer as if this module were not in the chain, so the rest of the chain decides. */
    FAIL_OPEN
}
