package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.replies.FailureCauses;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Where a {@code policy_list} instance gets rules: a policy room, a file, a URL. A source reads on
 * its own thread and hands over its complete current rules after each change; it never blocks a
 * request. When it fails it keeps its last good rules and says so in its {@link Status}.
 */
public interface PolicySource extends AutoCloseable {

    /** The source's name in the module's configuration, unique in the instance. */
    String name();

    /**
     * Starts reading: the first complete read, then updates, each handed to {@code listener}. A source
     * that needs the network returns at once, its first read made in the background; a file makes its
     * first read in this call, its rules (if it read any) handed over before it returns.
     */
    void start(Listener listener);

    /** What the source knows about its own health, for the health and explain endpoints. */
    Status status();

    /**
     * The upgrade of the policy room the source reads, when its tombstone announces one; empty for
     * sources that are no room.
     */
    default Optional<RoomUpgrade> upgrade() {
        return Optional.empty();
    }

    /**
     * Hands over the source's current rules again at its next read, even if they did not change: the
     * last ones it handed over could not be used (their compile ran out of memory, say). Any thread.
     */
    void redeliver();

    /** Stops reading and releases threads and connections. */
    @Override
    void close();

    /**
     * Receives a source's rules. Called from the source's own thread (or, for a first read made in
     * {@link #start}, from its caller's), never concurrently for one source.
     */
    @FunctionalInterface
    interface Listener {
        /**
         * @param source the source
         * @param rules  all of its current rules (not a delta)
         * @param skipped how many rule events it could not apply, by reason
         */
        void updated(PolicySource source, Collection<PolicyRule> rules, Map<PolicyEvents.Skipped, Integer> skipped);

        /**
         * As {@link #updated}, from a source that knows what this update changes in the rules it handed
         * over last (a new ban or a withdrawal in a policy room): a listener may then apply
         * {@code changes} to what it made of that last update, rather than read every rule again.
         * Taking it as an ordinary update is always right, and the default.
         *
         * @param rules   all of its current rules, the changes applied
         * @param changes the rules this update adds and takes out; nothing else changed
         */
        default void changed(PolicySource source, Collection<PolicyRule> rules, RuleChanges changes,
                             Map<PolicyEvents.Skipped, Integer> skipped) {
            updated(source, rules, skipped);
        }
    }

    /**
     * @param lastSuccess when the source last read successfully; empty before its first good read
     * @param lastError   the error of its last read, empty when that read succeeded
     * @param errorSince  since when it has been failing, when it is
     * @param failures    how many reads have failed since startup
     */
    record Status(Optional<Instant> lastSuccess, Optional<String> lastError, Optional<Instant> errorSince, long failures) {
        public static final Status STARTING = new Status(Optional.empty(), Optional.empty(), Optional.empty(), 0);

        public Status succeeded(Instant at) {
            return new Status(Optional.of(at), Optional.empty(), Optional.empty(), failures);
        }

        public Status failed(Instant at, String error) {
            return new Status(lastSuccess, Optional.of(error), Optional.of(errorSince.orElse(at)), failures + 1);
        }

        /**
         * A read that succeeded while an earlier failure still stands (a policy room followed by its
         * syncs, where a full read it owes fails): its last success changes, its error does not.
         */
        public Status followed(Instant at) {
            return new Status(Optional.of(at), lastError, errorSince, failures);
        }

        /**
         * A failed read counted, where the source still reads well otherwise (a policy room's full read
         * fails, its syncs do not): neither its last success nor its error change.
         */
        public Status failedAside() {
            return new Status(lastSuccess, lastError, errorSince, failures + 1);
        }

        /**
         * How a failure reads in a status and a log line: its message, with the class of an {@link Error};
         * without a message, its {@linkplain FailureCauses causes}, which tell a refused connection from a
         * host name that does not resolve (the JDK's client says {@code ConnectException} alone to both).
         * The message may quote what a list server sent (a header, a line, a JSON parser's view of a
         * character), so it is {@linkplain LogText#escaped escaped} and cut like any text from outside.
         */
        public static String describe(Throwable failure) {
            String message = failure.getMessage();
            if (message == null || message.isBlank()) {
                return LogText.escaped(FailureCauses.of(failure));
            }
            String shown = LogText.escaped(message);
            return failure instanceof Error ? failure.getClass().getSimpleName() + ": " + shown : shown;
        }
    }
}
