package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_profile_update}: Called after a local user's profile was updated.
 */
@FunctionalInterface
public interface OnProfileUpdate {

    CallbackType<OnProfileUpdate, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_profile_update",
            OnProfileUpdate.class, (module, args) -> {
                module.onProfileUpdate(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onProfileUpdate(Args args);

    /**
     * @param userId the user whose profile changed
     * @param newProfile the new profile
     * @param byAdmin whether a server admin made the change
     * @param deactivation whether the change comes from a deactivation
     */
    record Args(String userId, ProfileInfo newProfile, boolean byAdmin, boolean deactivation) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.userId("user_id"),
                    ProfileInfo.read(json.nested("new_profile")),
                    json.bool("by_admin"),
                    json.bool("deactivation"));
        }
    }
}
