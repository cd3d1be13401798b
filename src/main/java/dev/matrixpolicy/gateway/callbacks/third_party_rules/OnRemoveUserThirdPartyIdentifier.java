package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_remove_user_third_party_identifier}: Called after a 3PID association was removed from a
 * local user.
 */
@FunctionalInterface
public interface OnRemoveUserThirdPartyIdentifier {

    CallbackType<OnRemoveUserThirdPartyIdentifier, ThirdPartyIdentifierChange, RunAll.Completed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_remove_user_third_party_identifier",
            OnRemoveUserThirdPartyIdentifier.class, (module, args) -> {
                module.onRemoveUserThirdPartyIdentifier(args);
                return RunAll.DELIVERED;
            },
            ThirdPartyIdentifierChange::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onRemoveUserThirdPartyIdentifier(ThirdPartyIdentifierChange args);
}
