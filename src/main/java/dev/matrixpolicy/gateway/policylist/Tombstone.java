package dev.matrixpolicy.gateway.policylist;

import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * What the {@code m.room.tombstone} of the room a {@link RoomSource} reads says now: the room's
 * upgrade, if it announces one, logged when it is news. The source goes on reading that room,
 * whatever the tombstone says (see {@link RoomUpgrade}). Written by the reading thread, read by any.
 */
final class Tombstone {
    /** The tombstone's event type, a state event of the empty state key. */
    static final String TYPE = "m.room.tombstone";
    private static final Logger log = RoomSource.LOG;

    private final RoomSource source;
    /** The room as configured: an alias names the upgrade too. */
    private final String room;
    private final Clock clock;
    /** The upgrade of the room being read, as its tombstone last said. */
    private volatile Optional<RoomUpgrade> upgrade = Optional.empty();

    /** @param source the source, which names itself in the log lines */
    Tombstone(RoomSource source, String room, Clock clock) {
        this.source = source;
        this.room = room;
        this.clock = clock;
    }

    /** The upgrade of the room being read, if its tombstone announces one. Any thread. */
    Optional<RoomUpgrade> upgrade() {
        return upgrade;
    }

    /** Reads the room's tombstone as it stands, as a full read does. */
    void read(ClientServerApi homeserver, String roomId) throws HomeserverFailure, InterruptedException {
        noticed(roomId, homeserver.tombstone(roomId).flatMap(content -> upgrade(roomId, content, MissingNode.getInstance())));
    }

    /** Takes note of a timeline event of the room, if it is its tombstone. */
    void sawInTimeline(String roomId, JsonNode event) {
        if (TYPE.equals(event.path("type").asString("")) && event.path("state_key").asString("-").isEmpty()) {
            noticed(roomId, upgrade(roomId, event.path("content"), event.path("sender")));
        }
    }

    /**
     * The upgrade a tombstone of the room being read says. An upgrade of another room (the one an
     * alias named before) is dropped without a word.
     */
    private Optional<RoomUpgrade> upgrade(String roomId, JsonNode tombstone, JsonNode sender) {
        Optional<RoomUpgrade> upgrade = RoomUpgrade.of(roomId, tombstone, sender, clock.instant());
        return room.startsWith("#") ? upgrade.map(named -> named.namedBy(room)) : upgrade;
    }

    /** Records what the tombstone says now, and logs it when it is news. */
    private void noticed(String roomId, Optional<RoomUpgrade> now) {
        Optional<RoomUpgrade> known = upgrade;
        if (now.isEmpty()) {
            if (known.isPresent()) {
                if (known.get().room().equals(roomId)) {
                    log.info("{}: room {} no longer announces an upgrade to {}", source, roomId,
                            known.get().replacementRoom());
                }
                upgrade = Optional.empty();
            }
            return;
        }
        if (known.isPresent() && known.get().sameAs(now.get())) {
            return; // the same upgrade, seen again by a full read: first seen when it was first seen
        }
        log.warn("{}: room {} was upgraded{}: {}", source, roomId,
                now.get().sender().map(sender -> " by " + sender).orElse(""), now.get().advice());
        upgrade = now;
    }
}
