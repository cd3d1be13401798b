package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;
import java.util.Optional;

/**
 * {@code on_logged_out}: Called during a logout.
 */
@FunctionalInterface
public interface OnLoggedOut {

    CallbackType<OnLoggedOut, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.PASSWORD_AUTH_PROVIDER, "on_logged_out",
            OnLoggedOut.class, (module, args) -> {
                module.onLoggedOut(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onLoggedOut(Args args);

    /**
     * @param userId the user
     * @param deviceId the logged-out device, if the token had one
     * @param accessToken the now invalid access token
     */
    record Args(String userId, Optional<String> deviceId, String accessToken) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.optionalString("device_id"), json.string("access_token"));
        }
    }
}
