package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.outage.Outage;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.event.Level;

/**
 * A {@link RoomSource}'s rules handed to its listener: with what changed in the last ones handed
 * over, when the listener took those and the changes are known; else whole. Owned by the reading thread.
 */
final class HandOver {
    private final RoomSource source;
    private final PolicySource.Listener listener;
    /**
     * Whether the listener may not hold the rules as they stand (it failed to take the last ones, or
     * a step failed after changing them): the next hand-over is then whole, and made even if a full
     * read finds the rules unchanged.
     */
    private boolean whole;
    /** Whether the listener failed to take the last hand-over: logged once a run of failures. */
    private final Outage listenerFailing;

    HandOver(RoomSource source, PolicySource.Listener listener, Clock clock) {
        this.source = source;
        this.listener = listener;
        this.listenerFailing = new Outage(RoomSource.LOG, Level.ERROR, clock);
    }

    /** The next hand-over is whole, and made even if a full read finds the rules unchanged. */
    void wholeNext() {
        whole = true;
    }

    /** Whether the next hand-over is whole: the listener may not hold the rules as they stand. */
    boolean isWholeNext() {
        return whole;
    }

    /**
     * Hands the rules over.
     *
     * @return false when the listener failed to take them: the caller hands them over again, whole,
     *         at its next step rather than at the next change
     */
    boolean publish(RoomRules room) {
        Optional<RuleChanges> changes = room.takeChanges();
        try {
            if (changes.isPresent() && !whole) {
                listener.changed(source, room.rules(), changes.get(), room.skipped());
            } else {
                listener.updated(source, room.rules(), room.skipped());
            }
            whole = false;
        } catch (RuntimeException | Error bug) {
            listenerFailing.failed().loud("{}: the listener failed to take an update; handing it over again at each step "
                    + "until it does", source, bug);
            whole = true;
            return false;
        }
        listenerFailing.worksAgain("{}: the listener took the rules again", source);
        return true;
    }
}
