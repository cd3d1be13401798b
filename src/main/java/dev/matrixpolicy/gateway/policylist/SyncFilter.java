package dev.matrixpolicy.gateway.policylist;

import java.util.UUID;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The filters of a {@link RoomSource}'s {@code /sync} calls: the client-server API's filter, stored
 * once per connect ({@code POST /user/{userId}/filter}) for the long-polls, or sent inline for the
 * first sync's token.
 */
final class SyncFilter {
    private static final JsonMapper JSON = EventJson.MAPPER;
    /** Rule events one sync response carries before the homeserver reports a gap, and the full state is read again. */
    static final int TIMELINE_LIMIT = 100;

    private SyncFilter() {
    }

    /** The long-poll's filter: the room's rule events, their redactions and its tombstone, nothing else. */
    static ObjectNode ofRuleEvents(String roomId) {
        ObjectNode filter = nothingBut(roomId);
        ObjectNode room = (ObjectNode) filter.get("room");
        ArrayNode stateTypes = room.putObject("state").putArray("types");
        ObjectNode timeline = room.putObject("timeline");
        timeline.put("limit", TIMELINE_LIMIT);
        ArrayNode timelineTypes = timeline.putArray("types");
        for (String type : EntityKind.eventTypes()) {
            stateTypes.add(type);
            timelineTypes.add(type);
        }
        // No member events: see BotMembership.check for how the bot learns that it was removed.
        // A redacted rule is withdrawn; its redaction is no state event, so only the timeline has it.
        timelineTypes.add("m.room.redaction");
        // An upgrade of the room (its tombstone) is reported.
        timelineTypes.add(Tombstone.TYPE);
        return filter;
    }

    /**
     * The first sync's filter: no events at all, only the token that the long-polls start from.
     *
     * <p>It must be a token of now. Synapse keeps each sync answer for two minutes
     * ({@code sync_response_cache_duration}) under the request's since, timeout and filter; a bot that
     * reconnects (kicked, or the gateway restarted) would get its previous connect's token, and replay
     * on top of the fresh state every rule event since, briefly bringing back withdrawn rules. So the
     * filter also leaves out a room that cannot exist, named afresh at each connect.
     */
    static String tokenOnly(String roomId) {
        ObjectNode filter = nothingBut(roomId);
        ObjectNode room = (ObjectNode) filter.get("room");
        room.putArray("not_rooms").add("!" + UUID.randomUUID() + ":fresh-token.invalid");
        room.set("state", excludeAll());
        room.set("timeline", excludeAll().put("limit", 1));
        return JSON.writeValueAsString(filter);
    }

    /** A filter of the one room, with presence, account data and ephemeral events left out. */
    private static ObjectNode nothingBut(String roomId) {
        ObjectNode filter = JSON.createObjectNode();
        filter.set("presence", excludeAll());
        filter.set("account_data", excludeAll());
        ObjectNode room = filter.putObject("room");
        room.putArray("rooms").add(roomId);
        room.set("ephemeral", excludeAll());
        room.set("account_data", excludeAll());
        return filter;
    }

    private static ObjectNode excludeAll() {
        ObjectNode none = JSON.createObjectNode();
        none.putArray("not_types").add("*");
        return none;
    }
}
