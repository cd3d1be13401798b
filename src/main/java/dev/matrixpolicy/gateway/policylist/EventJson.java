package dev.matrixpolicy.gateway.policylist;

import tools.jackson.databind.json.JsonMapper;

/**
 * The one JSON reader for what a homeserver answers and what list files and URLs hold: the limits of
 * what one event can hold ({@link dev.matrixpolicy.gateway.matrix.EventJson}), and strings capped at
 * an event's size too, so that a broken homeserver's 100 MB string is refused as it comes. One event
 * beyond Jackson's own limits (a member event that anyone joining a public policy room can send,
 * with a long key or deep content) would otherwise make every sync and every full read of the room
 * fail, for good: no rule after it would ever apply, and after a restart the room's rules would be gone.
 */
final class EventJson {
    /** Synapse's limit on an event's size, in bytes. */
    static final int EVENT_BYTES = dev.matrixpolicy.gateway.matrix.EventJson.EVENT_BYTES;

    static final JsonMapper MAPPER = dev.matrixpolicy.gateway.matrix.EventJson.mapper(
            dev.matrixpolicy.gateway.matrix.EventJson.readLimits().maxStringLength(EVENT_BYTES).build()).build();

    private EventJson() {
    }
}
