package dev.matrixpolicy.gateway.callbacks.account_validity;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;
import java.util.Optional;

/**
 * {@code on_user_login}: Called after a user logged in or registered.
 */
@FunctionalInterface
public interface OnUserLogin {

    CallbackType<OnUserLogin, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.ACCOUNT_VALIDITY, "on_user_login",
            OnUserLogin.class, (module, args) -> {
                module.onUserLogin(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onUserLogin(Args args);

    /**
     * @param userId the user
     * @param authProviderType the login type, e.g. {@code m.login.password}; Synapse types it
     *                         {@code str | None} in its code (the docs say {@code str}), so it may be absent
     * @param authProviderId the SSO provider, if any (absent for password logins)
     */
    record Args(String userId, Optional<String> authProviderType, Optional<String> authProviderId) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.userId("user_id"),
                    json.optionalString("auth_provider_type"),
                    json.optionalString("auth_provider_id"));
        }
    }
}
