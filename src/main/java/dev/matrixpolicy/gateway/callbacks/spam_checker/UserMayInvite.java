package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code user_may_invite}: Called when processing an invite.
 */
@FunctionalInterface
public interface UserMayInvite {

    CallbackType<UserMayInvite, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "user_may_invite",
            UserMayInvite.class, UserMayInvite::userMayInvite,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMayInvite(Args args);

    /**
     * @param inviter the user sending the invite
     * @param invitee the user invited
     * @param roomId the room
     */
    record Args(String inviter, String invitee, String roomId) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("inviter"), json.userId("invitee"), json.requestedRoomId("room_id"));
        }
    }
}
