package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a user gave during registration, for {@code get_username_for_registration} and
 * {@code get_displayname_for_registration}.
 *
 * @param uiaResults the completed User-Interactive Authentication steps, by step type
 * @param params     the body of the client's {@code /register} request
 */
public record RegistrationDetails(ObjectNode uiaResults, ObjectNode params) {
    static RegistrationDetails read(JsonArgs json) {
        return new RegistrationDetails(json.object("uia_results"), json.object("params"));
    }
}
