package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code get_username_for_registration}: Called when registering a user, after User-Interactive
 * Authentication. Answers the localpart to use, or empty.
 */
@FunctionalInterface
public interface GetUsernameForRegistration {

    CallbackType<GetUsernameForRegistration, RegistrationDetails, Optional<String>> TYPE = new CallbackType<>(Category.PASSWORD_AUTH_PROVIDER, "get_username_for_registration",
            GetUsernameForRegistration.class, GetUsernameForRegistration::getUsernameForRegistration,
            RegistrationDetails::read, ResultTypes.OPTIONAL_LOCALPART,
            Rules.noneFallsThrough());

    Optional<String> getUsernameForRegistration(RegistrationDetails args);
}
