package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code user_may_create_room}: Called when processing a room creation request.
 */
@FunctionalInterface
public interface UserMayCreateRoom {

    CallbackType<UserMayCreateRoom, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "user_may_create_room",
            UserMayCreateRoom.class, UserMayCreateRoom::userMayCreateRoom,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMayCreateRoom(Args args);

    /**
     * @param userId     the user creating the room
     * @param roomConfig the {@code /createRoom} request body, sent by Synapse 1.132 and later
     */
    record Args(String userId, Optional<ObjectNode> roomConfig) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.optionalObject("room_config"));
        }
    }
}
