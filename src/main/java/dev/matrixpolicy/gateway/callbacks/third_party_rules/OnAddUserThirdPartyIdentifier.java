package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_add_user_third_party_identifier}: Called after a 3PID was associated with a local user.
 */
@FunctionalInterface
public interface OnAddUserThirdPartyIdentifier {

    CallbackType<OnAddUserThirdPartyIdentifier, ThirdPartyIdentifierChange, RunAll.Completed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_add_user_third_party_identifier",
            OnAddUserThirdPartyIdentifier.class, (module, args) -> {
                module.onAddUserThirdPartyIdentifier(args);
                return RunAll.DELIVERED;
            },
            ThirdPartyIdentifierChange::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onAddUserThirdPartyIdentifier(ThirdPartyIdentifierChange args);
}
