package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * An auth checker, a value of Synapse's {@code auth_checkers} dict. Unlike other callbacks, a module
 * does not implement this interface itself but returns checkers per {@link LoginType} from
 * {@link dev.matrixpolicy.gateway.module.PolicyModule#authCheckers()}. There is one chain per login
 * type: checkers are asked in order until one answers a user ID.
 */
@FunctionalInterface
public interface CheckAuth {

    CallbackType<CheckAuth, Args, Optional<String>> TYPE = new CallbackType<>(Category.PASSWORD_AUTH_PROVIDER,
            "check_auth", CheckAuth.class, CheckAuth::checkAuth,
            Args::read, ResultTypes.OPTIONAL_USER_ID,
            Rules.noneFallsThrough());

    /** @return the authenticated Matrix user ID, or empty when this checker does not accept the login */
    Optional<String> checkAuth(Args args);

    /**
     * @param user      the {@code user} field the client sent; may be a bare localpart
     * @param loginType the login type
     * @param loginDict the login secrets the client sent
     */
    record Args(String user, String loginType, ObjectNode loginDict) {
        static Args read(JsonArgs json) {
            return new Args(json.string("user"), json.string("login_type"), json.object("login_dict"));
        }
    }
}
