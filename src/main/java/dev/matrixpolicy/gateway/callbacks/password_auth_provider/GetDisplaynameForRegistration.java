package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code get_displayname_for_registration}: Called when registering a user, after User-Interactive
 * Authentication. Answers the display name to set, or empty.
 */
@FunctionalInterface
public interface GetDisplaynameForRegistration {

    CallbackType<GetDisplaynameForRegistration, RegistrationDetails, Optional<String>> TYPE = new CallbackType<>(Category.PASSWORD_AUTH_PROVIDER, "get_displayname_for_registration",
            GetDisplaynameForRegistration.class, GetDisplaynameForRegistration::getDisplaynameForRegistration,
            RegistrationDetails::read, ResultTypes.OPTIONAL_DISPLAY_NAME,
            Rules.noneFallsThrough());

    Optional<String> getDisplaynameForRegistration(RegistrationDetails args);
}
