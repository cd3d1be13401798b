package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.List;

/**
 * {@code check_threepid_can_be_invited}: Called when processing an invite to a third-party identifier.
 */
@FunctionalInterface
public interface CheckThreepidCanBeInvited {

    CallbackType<CheckThreepidCanBeInvited, Args, Boolean> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "check_threepid_can_be_invited",
            CheckThreepidCanBeInvited.class, CheckThreepidCanBeInvited::checkThreepidCanBeInvited,
            Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    Boolean checkThreepidCanBeInvited(Args args);

    /**
     * @param medium the 3PID medium
     * @param address the 3PID address
     * @param stateEvents the room state, as a list of state events
     */
    record Args(String medium, String address, List<ClientEvent> stateEvents) {
        static Args read(JsonArgs json) {
            return new Args(json.string("medium"), json.string("address"), json.stateEvents("state_events"));
        }
    }
}
