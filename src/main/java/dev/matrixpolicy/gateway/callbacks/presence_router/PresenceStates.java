package dev.matrixpolicy.gateway.callbacks.presence_router;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/** Reads a list of Synapse {@code UserPresenceState}s, each with at least {@code user_id} and {@code state}. */
final class PresenceStates {
    private PresenceStates() {
    }

    static List<ObjectNode> read(JsonArgs json, String field) {
        return json.objects(field, state -> {
            state.userId("user_id");
            state.string("state");
        });
    }
}
