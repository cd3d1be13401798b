package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code user_may_join_room}: Called when a user tries to join a room (not for server admins, nor when
 * creating a room).
 */
@FunctionalInterface
public interface UserMayJoinRoom {

    CallbackType<UserMayJoinRoom, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "user_may_join_room",
            UserMayJoinRoom.class, UserMayJoinRoom::userMayJoinRoom,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMayJoinRoom(Args args);

    /**
     * @param user the user trying to join
     * @param room the room
     * @param isInvited whether the user has a pending invite
     */
    record Args(String user, String room, boolean isInvited) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user"), json.requestedRoomId("room"), json.bool("is_invited"));
        }
    }
}
