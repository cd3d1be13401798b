package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code user_may_publish_room}: Called when trying to publish a room to the public room directory.
 */
@FunctionalInterface
public interface UserMayPublishRoom {

    CallbackType<UserMayPublishRoom, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "user_may_publish_room",
            UserMayPublishRoom.class, UserMayPublishRoom::userMayPublishRoom,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMayPublishRoom(Args args);

    /**
     * @param userId the user publishing the room
     * @param roomId the room
     */
    record Args(String userId, String roomId) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.requestedRoomId("room_id"));
        }
    }
}
