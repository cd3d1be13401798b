package dev.matrixpolicy.gateway.callbacks.presence_router;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import dev.matrixpolicy.gateway.chain.Accumulate;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code get_users_for_states}: Called when processing presence updates. Chain rule: all answers are
 * merged; users named by several modules get the union of their sets.
 *
 * <p>A router routes the updates it is asked about: an answer naming a state of a user with no update
 * in the batch is the module's failure (its link's failure policy applies), not presence to forward.
 * Synapse (1.157, {@code get_interested_remotes}) sends such a state to the receiver's server as
 * that user's presence, and a receiver of {@code ALL} gets it in its sync: presence nobody set.
 */
@FunctionalInterface
public interface GetUsersForStates {

    CallbackType<GetUsersForStates, Args, UsersForStates> TYPE = new CallbackType<>(Category.PRESENCE_ROUTER, "get_users_for_states",
            GetUsersForStates.class, (module, args) -> args.routedOnly(module.getUsersForStates(args)),
            Args::read, ResultTypes.USERS_FOR_STATES,
            new Accumulate<>(UsersForStates.NONE, UsersForStates::merge));

    UsersForStates getUsersForStates(Args args);

    /**
     * @param stateUpdates the presence updates, each a {@code UserPresenceState} as JSON
     */
    record Args(List<ObjectNode> stateUpdates) {
        static Args read(JsonArgs json) {
            return new Args(PresenceStates.read(json, "state_updates"));
        }

        /**
         * {@code answer}, when each of its states is of a user with an update among {@link #stateUpdates}.
         *
         * @throws IllegalStateException naming the first state's user who has none
         */
        UsersForStates routedOnly(UsersForStates answer) {
            if (answer.routes().isEmpty()) {
                return answer;
            }
            Set<String> updated = new HashSet<>();
            stateUpdates.forEach(state -> updated.add(state.path("user_id").asString("")));
            Set<Set<JsonNode>> checked = Collections.newSetFromMap(new IdentityHashMap<>()); // sets shared by receivers, once
            answer.routes().forEach((receiver, states) -> {
                if (checked.add(states)) {
                    for (JsonNode state : states) {
                        String user = state.path("user_id").asString("");
                        if (!updated.contains(user)) {
                            throw new IllegalStateException("answered a presence state of " + user + " for " + receiver
                                    + ", who has no update in the batch: a router routes the updates it is asked about");
                        }
                    }
                }
            });
            return answer;
        }
    }
}
