package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_user_deactivation_status_changed}: Called after a local user was deactivated or
 * reactivated.
 */
@FunctionalInterface
public interface OnUserDeactivationStatusChanged {

    CallbackType<OnUserDeactivationStatusChanged, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_user_deactivation_status_changed",
            OnUserDeactivationStatusChanged.class, (module, args) -> {
                module.onUserDeactivationStatusChanged(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onUserDeactivationStatusChanged(Args args);

    /**
     * @param userId the user
     * @param deactivated {@code true} when deactivated, {@code false} when reactivated
     * @param byAdmin whether a server admin made the change
     */
    record Args(String userId, boolean deactivated, boolean byAdmin) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.bool("deactivated"), json.bool("by_admin"));
        }
    }
}
