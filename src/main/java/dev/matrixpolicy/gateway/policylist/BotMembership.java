package dev.matrixpolicy.gateway.policylist;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * The bot's membership in the room a {@link RoomSource} reads: who the bot is
 * ({@code /account/whoami}), the room its alias names, the join unless the bot is in it, the stored
 * sync filter and the first sync token, and whether the bot is still in the room. Owned by the
 * reading thread.
 */
final class BotMembership {
    private static final Logger log = RoomSource.LOG;

    private final RoomSource source;
    private final ClientServerApi homeserver;
    private final RoomSource.Settings settings;
    /** Whether the next connect resolves the configured alias afresh, rather than read the room it named last. */
    private boolean followAlias = true;
    /** The room the last session read: an alias that names another room now is worth a line in the log. */
    private Optional<String> lastRoomId = Optional.empty();

    /** @param source the source, which names itself in the log lines */
    BotMembership(RoomSource source, ClientServerApi homeserver, RoomSource.Settings settings) {
        this.source = source;
        this.homeserver = homeserver;
        this.settings = settings;
    }

    /** Joins the room unless the bot is in it, and starts a session of it from a token of now. */
    RoomSource.Session connect() throws HomeserverFailure, InterruptedException {
        String userId = homeserver.whoami();
        String room = settings.room();
        // An alias is followed at the start and when the bot was removed from its room, not at every
        // reconnect: a proxy's 404 must not move the source to a room the alias names meanwhile (an
        // upgraded room its curators have not filled yet), replacing every rule it had.
        boolean byAlias = room.startsWith("#") && (followAlias || lastRoomId.isEmpty());
        String roomId = !room.startsWith("#") ? room : byAlias ? resolve(room) : lastRoomId.get();
        if (!homeserver.isJoined(roomId, userId)) {
            try {
                // joined by the alias only when following it: a join by alias joins whatever room it names now
                // a room joined by its ID is that room, whatever the answer names
                String joined = homeserver.join(byAlias ? room : roomId);
                roomId = byAlias ? joined : roomId;
            } catch (HomeserverFailure refused) {
                if (refused.says(403, "M_FORBIDDEN") || refused.says(404, "M_NOT_FOUND")) {
                    // Out of the room it read and unable to join it again by its ID (banned, or a room of
                    // version 12 that the homeserver left, which has no server to join through): the bot
                    // was removed after all, so the next attempt follows the alias.
                    followAlias |= room.startsWith("#");
                    throw refused.explained("the bot " + userId + " is not in room " + room + " and may not join it");
                }
                throw refused;
            }
            log.info("{}: the bot {} joined the room", source, userId);
        }
        if (lastRoomId.isPresent() && !lastRoomId.get().equals(roomId)) {
            log.warn("{}: the alias now names room {}, no longer {}: its rules replace those of {}", source,
                    roomId, lastRoomId.get(), lastRoomId.get());
        }
        lastRoomId = Optional.of(roomId);
        followAlias = false;
        String filterId = homeserver.createFilter(userId, SyncFilter.ofRuleEvents(roomId));
        String since = homeserver.sync(Optional.empty(), SyncFilter.tokenOnly(roomId), Duration.ZERO, roomId).nextBatch();
        return new RoomSource.Session(userId, roomId, filterId, since, settings.clock(),
                new UnappliedRedactions(source, homeserver, roomId, settings.backoff(), settings.clock()));
    }

    private String resolve(String alias) throws HomeserverFailure, InterruptedException {
        try {
            return homeserver.resolveAlias(alias);
        } catch (HomeserverFailure unknown) {
            throw unknown.status() == 404 ? unknown.explained("room alias " + alias + " does not exist") : unknown;
        }
    }

    /** What {@link #check} found. */
    enum Membership {
        /** Not asked: the last sign of the bot in the room is less than a sync timeout old. */
        NOT_ASKED,
        JOINED,
        /** No longer in the room: the caller reads what came before the removal, then ends with {@link #removed}. */
        REMOVED
    }

    /**
     * After a long-poll with nothing for the room, asks whether the bot is still in it, once a sync
     * timeout at most. Synapse reports a room the bot was removed from (kicked, banned) only with
     * events the filter lets through, and the filter leaves member events out, so that a join raid
     * on a public policy room neither wakes the bot at every join nor fills its timeline until the
     * homeserver reports a gap (and a full read of the room follows). Removed, the bot gets nothing
     * more from the room: its next long-polls time out empty, and this notices within a sync timeout.
     * A removal that came just after the long-poll's answer was written may follow rule events that
     * answer did not hold: Synapse gives them to the next sync, in its {@code leave} section.
     */
    Membership check(RoomSource.Session current) throws HomeserverFailure, InterruptedException {
        Instant now = settings.clock().instant();
        if (now.isBefore(current.joinedAt.plus(settings.syncTimeout()))) {
            return Membership.NOT_ASKED;
        }
        // a definite answer only: a failure to answer (a proxy's 404) is retried, not taken for a removal
        if (!homeserver.membership(current.roomId, current.userId).filter("join"::equals).isPresent()) {
            return Membership.REMOVED;
        }
        current.joinedAt = now;
        return Membership.JOINED;
    }

    /** The bot is no longer in the room: the next connect follows the alias, if the room is named by one. */
    HomeserverFailure removed(RoomSource.Session current) {
        followAlias = true;
        return HomeserverFailure.reconnect("the bot " + current.userId + " is no longer in room " + settings.room());
    }
}
