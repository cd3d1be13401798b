package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A configured module instance as the chains see it: something that implements any number of
 * callback interfaces, like a Synapse module that registers callbacks in its constructor.
 *
 * <p>The usual way to take part in a callback's chain is to implement its interface, for example
 * {@link dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite}. A module that decides from its
 * configuration which callbacks it answers overrides {@link #implementation(CallbackType)} instead.
 * A module knows nothing about chains or other modules.
 */
public interface PolicyModule extends AutoCloseable {
    /** How long the modules' {@linkplain #close() closings} may take together at shutdown. */
    int SHUTDOWN_CLOSE_SECONDS = 13;
    /** How long a closing interrupted at the end of {@link #SHUTDOWN_CLOSE_SECONDS} has to count and log what it gives up. */
    int SHUTDOWN_LAST_WORDS_SECONDS = 2;


    /**
     * This module's implementation of a callback, or empty when it does not take part in that
     * callback's chain. Asked once per callback at startup.
     */
    default <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        Class<M> type = callback.moduleInterface();
        return type.isInstance(this) ? Optional.of(type.cast(this)) : Optional.empty();
    }

    /**
     * Password auth checkers, Synapse's {@code auth_checkers} dict: a login type with its fields,
     * to the function that checks it.
     */
    default Map<LoginType, CheckAuth> authCheckers() {
        return Map.of();
    }

    /**
     * Whether a call may block, e.g. on I/O. A module that only computes in memory answers
     * {@code false} and is called inline, without the cost of enforcing a deadline.
     */
    default boolean mayBlock() {
        return true;
    }

    /**
     * How long one call may take, at the longest, before this module gives up on its backend and
     * answers by its own failure handling (its connect and read timeouts, retries and backoff, from
     * its configuration); empty when that is unknown or does not apply (no backend, or a wait that
     * nothing bounds). Asked once at startup.
     *
     * <p>The gateway compares it with the entry's {@code timeout}, the deadline of each call of a
     * module that {@linkplain #mayBlock() may block}, and logs a warning when the deadline comes
     * first: a slow backend is then answered by the entry's {@code on-failure} (503 under
     * {@code fail-closed}) instead of by the module's own answer for a failed backend.
     */
    default Optional<WorstCase> worstCase() {
        return Optional.empty();
    }

    /**
     * The lists this instance reads on its own (files, URLs, policy rooms), for the management port;
     * empty for a module that reads nothing after startup.
     */
    default List<ListSource> listSources() {
        return List.of();
    }

    /**
     * Releases what this instance holds: threads, connections, queues (drained first), files.
     * Called once, after the instance has left every chain and its last call has returned: when a
     * configuration reload replaces or removes its entry, or at shutdown. An entry a reload leaves
     * unchanged keeps its instance, which is not closed. Must not throw; a failure is logged.
     *
     * <p>At shutdown the closings share {@value #SHUTDOWN_CLOSE_SECONDS} s; one still running then is
     * interrupted, and has {@value #SHUTDOWN_LAST_WORDS_SECONDS} s more to count and log what it
     * gives up (an audit webhook, the records it could not deliver). An interrupted closing gives up
     * waiting at once.
     */
    @Override
    default void close() {
    }
}
