package dev.matrixpolicy.gateway.callbacks.account_validity;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_user_registration}: Called after a user registered.
 */
@FunctionalInterface
public interface OnUserRegistration {

    CallbackType<OnUserRegistration, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.ACCOUNT_VALIDITY, "on_user_registration",
            OnUserRegistration.class, (module, args) -> {
                module.onUserRegistration(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onUserRegistration(Args args);

    /**
     * @param user the new user
     */
    record Args(String user) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user"));
        }
    }
}
