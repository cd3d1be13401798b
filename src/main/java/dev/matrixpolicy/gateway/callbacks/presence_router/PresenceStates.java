package dev.matrixpolicy.gateway.callbacks.presence_router;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Reads a list of Synapse {@code UserPresenceState}s, each with at least {@code user_id} and {@code state}. */
final class PresenceStates {
    private PresenceStates() {
    }

    static List<ObjectNode> read(JsonArgs json, String field) {
        List<JsonNode> elements = json.array(field);
        List<ObjectNode> states = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            JsonArgs state = json.element(field, i, elements.get(i));
            state.userId("user_id");
            state.string("state");
            states.add((ObjectNode) elements.get(i));
        }
        return List.copyOf(states);
    }
}
