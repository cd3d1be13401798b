package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.LogText;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * Whether the homeserver applied the redactions of rule events a room's timeline carried, and those
 * it had not, asked about again. A redaction reaches every member's timeline whether or not it took
 * effect: one sent from a server that lets its users redact what they may not (Synapse accepts it
 * into the room, and applies it only when its sender has the power or shares the event's server)
 * would otherwise lift a ban until the next full read, and could be sent again after each. One
 * connect's worth, owned by the reading thread.
 */
final class UnappliedRedactions {
    /**
     * How many times a redaction of a rule the homeserver said it had not applied is asked about, the
     * pauses between as after failed attempts ({@link RoomSource.Settings#backoff}: 1, 2, 4 and 8 s by
     * default). A homeserver's workers may answer from a cache a moment behind the sync that carried
     * it; a redaction that never takes effect (its sender may not redact) is asked about no more after that.
     */
    static final int ASKS = 5;
    /** The most redactions waiting to be asked about again: a flood of powerless ones drops the oldest. */
    static final int MOST_WAITING = 1_000;
    private static final Logger log = RoomSource.LOG;

    private final RoomSource source;
    private final ClientServerApi homeserver;
    private final String roomId;
    private final RoomSource.Pauses backoff;
    private final Clock clock;
    /** Redactions of rules the homeserver had not applied when asked, by how many times it was asked. */
    private final LinkedHashMap<String, Integer> waiting = new LinkedHashMap<>();
    /** When to ask about {@link #waiting} again. */
    private Instant askAgainAt = Instant.MAX;

    /** @param source the source, which names itself in the log lines */
    UnappliedRedactions(RoomSource source, ClientServerApi homeserver, String roomId, RoomSource.Pauses backoff, Clock clock) {
        this.source = source;
        this.homeserver = homeserver;
        this.roomId = roomId;
        this.backoff = backoff;
        this.clock = clock;
    }

    /**
     * Of the redactions of rule events in a timeline, those the homeserver applied; the others wait to
     * be asked about again. One request a redaction of a rule (rare).
     *
     * @return empty when the homeserver cannot say: the caller takes none as applied and reads the
     *         state whole again, which settles it
     */
    Optional<Collection<String>> applied(Collection<String> redactions) throws InterruptedException {
        Collection<String> applied = new HashSet<>();
        try {
            for (String eventId : redactions) {
                if (homeserver.isRedacted(roomId, eventId)) {
                    applied.add(eventId);
                }
            }
        } catch (HomeserverFailure failure) {
            log.debug("{}: could not ask whether redactions were applied ({}); reading the full state again",
                    source, failure.getMessage());
            return Optional.empty();
        }
        // said once every answer is in: a failure part way takes the full state instead, which ignores nothing
        redactions.stream().filter(eventId -> !applied.contains(eventId)).forEach(eventId -> {
            log.info("{}: a redaction of {} that the homeserver did not apply is ignored until it does", source,
                    LogText.quoted(eventId));
            waitFor(eventId, 1);
        });
        return Optional.of(applied);
    }

    /** When to ask again about the redactions not applied; {@link Instant#MAX} while none waits. */
    Instant askAgainAt() {
        return askAgainAt;
    }

    /**
     * Asks again about the redactions the homeserver had not applied. One that fails to be asked
     * counts as not applied, and the others are not asked in this round: each question holds the
     * source from its syncs, up to the request timeout on a homeserver that is slow or down, and a
     * thousand of them would hold it for hours. They wait for the next round, their asks not counted.
     *
     * @return those it applies now, whose rules are withdrawn
     */
    Collection<String> askAgain() throws InterruptedException {
        Map<String, Integer> asking = new LinkedHashMap<>(waiting);
        waiting.clear();
        askAgainAt = Instant.MAX;
        Collection<String> applied = new HashSet<>();
        boolean answering = true;
        for (Map.Entry<String, Integer> redaction : asking.entrySet()) {
            if (!answering) {
                waitFor(redaction.getKey(), redaction.getValue());
                continue;
            }
            try {
                if (homeserver.isRedacted(roomId, redaction.getKey())) {
                    applied.add(redaction.getKey());
                    continue;
                }
            } catch (HomeserverFailure failure) {
                log.debug("{}: could not ask again whether {} was redacted: {}", source, redaction.getKey(), failure.getMessage());
                answering = false;
            }
            waitFor(redaction.getKey(), redaction.getValue() + 1);
        }
        return applied;
    }

    /** Keeps a redaction the homeserver had not applied to ask about again, after the pause of as many failed attempts. */
    private void waitFor(String eventId, int asked) {
        if (asked >= ASKS) {
            log.info("{}: the homeserver has not applied the redaction of {} after {} asks; the rule stays in force",
                    source, LogText.quoted(eventId), asked);
            return;
        }
        if (waiting.size() >= MOST_WAITING) {
            waiting.pollFirstEntry();
        }
        waiting.put(eventId, asked);
        Instant at = clock.instant().plus(backoff.after(asked));
        askAgainAt = askAgainAt.isBefore(at) ? askAgainAt : at;
    }
}
