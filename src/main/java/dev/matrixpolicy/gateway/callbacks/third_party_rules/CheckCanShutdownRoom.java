package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code check_can_shutdown_room}: Called when an admin requests a room shutdown.
 */
@FunctionalInterface
public interface CheckCanShutdownRoom {

    CallbackType<CheckCanShutdownRoom, Args, Boolean> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "check_can_shutdown_room",
            CheckCanShutdownRoom.class, CheckCanShutdownRoom::checkCanShutdownRoom,
            answer -> answer::apply, Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    Boolean checkCanShutdownRoom(Args args);

    /**
     * @param userId the admin requesting the shutdown
     * @param roomId the room
     */
    record Args(String userId, String roomId) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.roomId("room_id"));
        }
    }
}
