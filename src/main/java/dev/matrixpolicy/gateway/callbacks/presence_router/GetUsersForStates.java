package dev.matrixpolicy.gateway.callbacks.presence_router;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import dev.matrixpolicy.gateway.chain.Accumulate;
import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code get_users_for_states}: Called when processing presence updates. Chain rule: all answers are
 * merged; users named by several modules get the union of their sets.
 */
@FunctionalInterface
public interface GetUsersForStates {

    CallbackType<GetUsersForStates, Args, UsersForStates> TYPE = new CallbackType<>(Category.PRESENCE_ROUTER, "get_users_for_states",
            GetUsersForStates.class, GetUsersForStates::getUsersForStates,
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
    }
}
