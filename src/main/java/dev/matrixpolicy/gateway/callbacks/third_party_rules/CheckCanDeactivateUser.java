package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code check_can_deactivate_user}: Called when the deactivation of a user is requested.
 */
@FunctionalInterface
public interface CheckCanDeactivateUser {

    CallbackType<CheckCanDeactivateUser, Args, Boolean> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "check_can_deactivate_user",
            CheckCanDeactivateUser.class, CheckCanDeactivateUser::checkCanDeactivateUser,
            Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    Boolean checkCanDeactivateUser(Args args);

    /**
     * @param userId the user to deactivate
     * @param byAdmin whether a server admin asked
     */
    record Args(String userId, boolean byAdmin) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.bool("by_admin"));
        }
    }
}
