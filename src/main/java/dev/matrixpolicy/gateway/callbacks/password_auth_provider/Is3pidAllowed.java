package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code is_3pid_allowed}: Called when a third-party identifier is about to be bound to an account.
 */
@FunctionalInterface
public interface Is3pidAllowed {

    CallbackType<Is3pidAllowed, Args, Boolean> TYPE = new CallbackType<>(Category.PASSWORD_AUTH_PROVIDER, "is_3pid_allowed",
            Is3pidAllowed.class, Is3pidAllowed::is3pidAllowed,
            Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    Boolean is3pidAllowed(Args args);

    /**
     * @param medium {@code email} or {@code msisdn}
     * @param address the 3PID address
     * @param registration whether the bind is part of a registration
     */
    record Args(String medium, String address, boolean registration) {
        static Args read(JsonArgs json) {
            return new Args(json.string("medium"), json.string("address"), json.bool("registration"));
        }
    }
}
