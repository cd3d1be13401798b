package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code check_can_shutdown_room}: Called when an admin requests a room shutdown. The docs type
 * {@code user_id} as {@code str}, but newer Synapse passes {@code None} when no user asked (a
 * shutdown through the purge machinery), so it is optional here.
 */
@FunctionalInterface
public interface CheckCanShutdownRoom {

    CallbackType<CheckCanShutdownRoom, Args, Boolean> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "check_can_shutdown_room",
            CheckCanShutdownRoom.class, CheckCanShutdownRoom::checkCanShutdownRoom,
            Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    Boolean checkCanShutdownRoom(Args args);

    /**
     * @param userId the admin requesting the shutdown, if a user asked
     * @param roomId the room
     */
    record Args(Optional<String> userId, String roomId) {
        static Args read(JsonArgs json) {
            return new Args(json.optionalUserId("user_id"), json.roomId("room_id"));
        }
    }
}
