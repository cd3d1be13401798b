package dev.matrixpolicy.gateway.callbacks.ratelimit;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.RatelimitOverride;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code get_ratelimit_override_for_user} (Synapse 1.132+, experimental there): Called each time a
 * rate limiter that supports overrides checks a user's action. Synapse 1.157 asks for
 * {@code rc_invites.per_room}, {@code rc_invites.per_user} and {@code rc_invites.per_issuer}.
 */
@FunctionalInterface
public interface GetRatelimitOverrideForUser {

    CallbackType<GetRatelimitOverrideForUser, Args, Optional<RatelimitOverride>> TYPE = new CallbackType<>(
            Category.RATELIMIT, "get_ratelimit_override_for_user", GetRatelimitOverrideForUser.class,
            GetRatelimitOverrideForUser::getRatelimitOverrideForUser,
            Args::read, ResultTypes.RATELIMIT_OVERRIDE,
            Rules.noneFallsThrough());

    Optional<RatelimitOverride> getRatelimitOverrideForUser(Args args);

    /**
     * @param userId      the user acting
     * @param limiterName the limiter, e.g. {@code rc_invites.per_user}
     */
    record Args(String userId, String limiterName) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.string("limiter_name"));
        }
    }
}
