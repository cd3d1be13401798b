package dev.matrixpolicy.gateway.callbacks;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The answer of {@code get_users_for_states}: which users receive which presence states.
 *
 * @param routes user ID to the presence states (JSON objects, as received) to forward to that user,
 *               each state once ({@link PresenceStates})
 */
public record UsersForStates(Map<String, Set<JsonNode>> routes) {
    public static final UsersForStates NONE = new UsersForStates(Map.of());

    public UsersForStates {
        Map<String, Set<JsonNode>> copy = new LinkedHashMap<>();
        routes.forEach((user, states) -> copy.put(user, Collections.unmodifiableSet(new PresenceStates(states))));
        routes = Collections.unmodifiableMap(copy);
    }

    /** Merges two answers; when both name the same user their sets are concatenated, as Synapse does. */
    public UsersForStates merge(UsersForStates other) {
        Map<String, Set<JsonNode>> merged = new LinkedHashMap<>();
        routes.forEach((user, states) -> merged.put(user, new PresenceStates(states)));
        other.routes.forEach((user, states) -> merged.computeIfAbsent(user, u -> new PresenceStates()).addAll(states));
        return new UsersForStates(merged);
    }
}
