package dev.matrixpolicy.gateway.callbacks.presence_router;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.chain.Accumulate;

/**
 * {@code get_interested_users}: Called when working out whose presence a user may see. Chain rule: the
 * sets are concatenated; "all users" from any module stops the chain.
 */
@FunctionalInterface
public interface GetInterestedUsers {

    CallbackType<GetInterestedUsers, Args, InterestedUsers> TYPE = new CallbackType<>(Category.PRESENCE_ROUTER, "get_interested_users",
            GetInterestedUsers.class, GetInterestedUsers::getInterestedUsers,
            Args::read, ResultTypes.INTERESTED_USERS,
            new Accumulate<>(InterestedUsers.NONE,
            (left, right) -> ((InterestedUsers.Users) left).union((InterestedUsers.Users) right),
            answer -> answer == InterestedUsers.ALL_USERS));

    InterestedUsers getInterestedUsers(Args args);

    /**
     * @param userId the local user asking for presence
     */
    record Args(String userId) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"));
        }
    }
}
