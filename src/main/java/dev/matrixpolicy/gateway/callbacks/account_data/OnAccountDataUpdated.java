package dev.matrixpolicy.gateway.callbacks.account_data;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code on_account_data_updated}: Called after a user's account data changed.
 */
@FunctionalInterface
public interface OnAccountDataUpdated {

    CallbackType<OnAccountDataUpdated, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.ACCOUNT_DATA, "on_account_data_updated",
            OnAccountDataUpdated.class, (module, args) -> {
                module.onAccountDataUpdated(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onAccountDataUpdated(Args args);

    /**
     * @param userId the user
     * @param roomId the room the data belongs to, if any
     * @param accountDataType the account data type
     * @param content the new content; {@code {}} when deleted
     */
    record Args(String userId, Optional<String> roomId, String accountDataType, ObjectNode content) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.userId("user_id"),
                    json.optionalRoomId("room_id"),
                    json.string("account_data_type"),
                    json.object("content"));
        }
    }
}
