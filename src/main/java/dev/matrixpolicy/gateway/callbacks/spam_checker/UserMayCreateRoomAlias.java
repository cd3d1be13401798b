package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code user_may_create_room_alias}: Called when trying to associate an alias with an existing room.
 */
@FunctionalInterface
public interface UserMayCreateRoomAlias {

    CallbackType<UserMayCreateRoomAlias, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "user_may_create_room_alias",
            UserMayCreateRoomAlias.class, UserMayCreateRoomAlias::userMayCreateRoomAlias,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMayCreateRoomAlias(Args args);

    /**
     * @param userId the user creating the alias
     * @param roomAlias the alias, as a string such as {@code #room:example.com}
     */
    record Args(String userId, String roomAlias) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.roomAlias("room_alias"));
        }
    }
}
