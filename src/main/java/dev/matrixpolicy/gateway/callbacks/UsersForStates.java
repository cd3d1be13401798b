package dev.matrixpolicy.gateway.callbacks;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The answer of {@code get_users_for_states}: which users receive which presence states.
 *
 * @param routes user ID to the presence states (JSON objects, as received) to forward to that user,
 *               each state once ({@link PresenceStates})
 */
public record UsersForStates(Map<String, Set<JsonNode>> routes) {
    public static final UsersForStates NONE = new UsersForStates(Map.of());

    /** Holds each set read-only ({@link PresenceStates#readOnly}): the same set given for several users is held once. */
    public UsersForStates {
        Map<Set<JsonNode>, Set<JsonNode>> held = new IdentityHashMap<>();
        Map<String, Set<JsonNode>> copy = new LinkedHashMap<>();
        routes.forEach((user, states) -> copy.put(user, held.computeIfAbsent(states, PresenceStates::readOnly)));
        routes = Collections.unmodifiableMap(copy);
    }

    /**
     * Merges two answers; when both name the same user their sets are concatenated, as Synapse does.
     * A set named by one answer only is shared, not copied, and two sets are concatenated once for all
     * the users both answers give them to; merged with no routes, the other answer is the merge.
     */
    public UsersForStates merge(UsersForStates other) {
        if (other.routes.isEmpty()) {
            return this;
        }
        if (routes.isEmpty()) {
            return other;
        }
        Map<Set<JsonNode>, Map<Set<JsonNode>, Set<JsonNode>>> unions = new IdentityHashMap<>();
        Map<String, Set<JsonNode>> merged = new LinkedHashMap<>(routes);
        other.routes.forEach((user, states) -> merged.merge(user, states, (mine, theirs) ->
                unions.computeIfAbsent(mine, set -> new IdentityHashMap<>()).computeIfAbsent(theirs, set -> {
                    PresenceStates both = new PresenceStates(mine);
                    both.addAll(theirs);
                    return both.sealed();
                })));
        return new UsersForStates(merged);
    }

    /**
     * This answer in its compact form, {@code {"states": [...], "sets": [[0, 1], ...], "users": {"@a:x": 0}}}:
     * each state once, each distinct set of states once as the indices of its states, and each user with
     * the index of its set. The full form writes each state once for each user it goes to: with 40
     * receivers of {@code ALL}, 40 times. States are told apart by instance, as a module passes on
     * the request's own: equal states from two modules' answers are written twice, which costs bytes
     * only, as a user's set holds each state once by content ({@link PresenceStates}).
     */
    JsonNode compact() {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        ArrayNode states = json.putArray("states");
        ArrayNode sets = json.putArray("sets");
        ObjectNode users = json.putObject("users");
        Map<JsonNode, Integer> stateIndex = new IdentityHashMap<>();
        Map<Indices, Integer> setIndex = new HashMap<>();
        Map<Set<JsonNode>, Integer> heldSetIndex = new IdentityHashMap<>(); // the sets users share, each indexed once
        routes.forEach((user, userStates) -> users.put(user, heldSetIndex.computeIfAbsent(userStates, held -> {
            int[] indices = new int[held.size()];
            int i = 0;
            for (JsonNode state : held) {
                indices[i++] = stateIndex.computeIfAbsent(state, s -> {
                    states.add(s);
                    return states.size() - 1;
                });
            }
            return setIndex.computeIfAbsent(new Indices(indices), set -> {
                ArrayNode written = sets.addArray();
                Arrays.stream(set.values()).forEach(written::add);
                return sets.size() - 1;
            });
        })));
        return json;
    }

    /** A set of states by their indices, in order: equal when the same states come in the same order. */
    private record Indices(int[] values) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Indices that && Arrays.equals(that.values, values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return Arrays.toString(values);
        }
    }
}
