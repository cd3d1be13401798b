package dev.matrixpolicy.gateway.policylist;

import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one JSON reader for what a homeserver answers and what list files and URLs hold: Jackson's
 * own limits, raised to what one event can hold. Jackson refuses a field name over 50,000
 * characters, nesting over 500 levels and a number over 1,000 digits; Synapse accepts any event
 * under 64 KiB, and older room versions any integer. One such event (a member event that anyone
 * joining a public policy room can send, with a long key or deep content) would otherwise make every
 * sync and every full read of the room fail, for good: no rule after it would ever apply, and after
 * a restart the room's rules would be gone. Nothing in an event of 64 KiB goes beyond 64 Ki.
 * Readers here skip what they do not need without building it, or build trees iteratively, so
 * deep nesting costs no stack.
 */
final class EventJson {
    /** Synapse's limit on an event's size, in bytes: no name, string, number or nesting in an event goes beyond it. */
    static final int EVENT_BYTES = 65_536;

    static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNameLength(EVENT_BYTES)
                    .maxNestingDepth(EVENT_BYTES)
                    .maxNumberLength(EVENT_BYTES)
                    .maxStringLength(EVENT_BYTES) // and no string: a broken homeserver's 100 MB one is refused as it comes
                    .build())
            .build()).build();

    private EventJson() {
    }
}
