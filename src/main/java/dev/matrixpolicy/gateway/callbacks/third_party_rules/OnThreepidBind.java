package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_threepid_bind}: Called after a 3PID was associated with a local user. Deprecated in
 * Synapse in favour of {@code on_add_user_third_party_identifier}.
 */
@FunctionalInterface
public interface OnThreepidBind {

    CallbackType<OnThreepidBind, ThirdPartyIdentifierChange, RunAll.Completed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_threepid_bind",
            OnThreepidBind.class, (module, args) -> {
                module.onThreepidBind(args);
                return RunAll.DELIVERED;
            },
            ThirdPartyIdentifierChange::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onThreepidBind(ThirdPartyIdentifierChange args);
}
