package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code check_3pid_auth}: Called when a user logs in or registers with a third-party identifier and a
 * password. Answers the authenticated user ID, or empty.
 */
@FunctionalInterface
public interface Check3pidAuth {

    CallbackType<Check3pidAuth, Args, Optional<String>> TYPE = new CallbackType<>(Category.PASSWORD_AUTH_PROVIDER, "check_3pid_auth",
            Check3pidAuth.class, Check3pidAuth::check3pidAuth,
            Args::read, ResultTypes.OPTIONAL_USER_ID,
            Rules.noneFallsThrough());

    Optional<String> check3pidAuth(Args args);

    /**
     * @param medium the 3PID medium, e.g. {@code email}
     * @param address the 3PID address
     * @param password the password the user gave
     */
    record Args(String medium, String address, String password) {
        static Args read(JsonArgs json) {
            return new Args(json.string("medium"), json.string("address"), json.string("password"));
        }
    }
}
