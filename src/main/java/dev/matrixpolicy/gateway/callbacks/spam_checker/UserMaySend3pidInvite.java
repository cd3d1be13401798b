package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code user_may_send_3pid_invite}: Called when processing an invite to a third-party identifier
 * (email address or phone number).
 */
@FunctionalInterface
public interface UserMaySend3pidInvite {

    CallbackType<UserMaySend3pidInvite, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "user_may_send_3pid_invite",
            UserMaySend3pidInvite.class, UserMaySend3pidInvite::userMaySend3pidInvite,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMaySend3pidInvite(Args args);

    /**
     * @param inviter the user sending the invite
     * @param medium the invitee's 3PID medium, e.g. {@code email}
     * @param address the invitee's 3PID address
     * @param roomId the room
     */
    record Args(String inviter, String medium, String address, String roomId) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.userId("inviter"),
                    json.string("medium"),
                    json.string("address"),
                    json.requestedRoomId("room_id"));
        }
    }
}
