package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code federated_user_may_invite} (Synapse 1.134+): Called when a remote server invites a local
 * user. When every module answers {@code NOT_SPAM}, Synapse goes on to ask {@code user_may_invite}.
 */
@FunctionalInterface
public interface FederatedUserMayInvite {

    CallbackType<FederatedUserMayInvite, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER,
            "federated_user_may_invite", FederatedUserMayInvite.class, FederatedUserMayInvite::federatedUserMayInvite,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict federatedUserMayInvite(Args args);

    /**
     * @param event the invite event, in client format: its {@code sender} is the remote inviter, its
     *              {@code state_key} the local invitee, and {@code unsigned.invite_room_state} the
     *              stripped state of the room
     */
    record Args(ClientEvent event) {
        static Args read(JsonArgs json) {
            return new Args(json.event("event"));
        }
    }
}
