package dev.matrixpolicy.gateway.callbacks.account_validity;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code is_user_expired}: Called on every authenticated request (except logout). {@code true} locks
 * the user out with ORG_MATRIX_EXPIRED_ACCOUNT; empty means no opinion.
 */
@FunctionalInterface
public interface IsUserExpired {

    CallbackType<IsUserExpired, Args, Optional<Boolean>> TYPE = new CallbackType<>(Category.ACCOUNT_VALIDITY, "is_user_expired",
            IsUserExpired.class, IsUserExpired::isUserExpired,
            Args::read, ResultTypes.OPTIONAL_EXPIRED,
            Rules.noneFallsThrough());

    Optional<Boolean> isUserExpired(Args args);

    /**
     * @param user the user making an authenticated request
     */
    record Args(String user) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user"));
        }
    }
}
