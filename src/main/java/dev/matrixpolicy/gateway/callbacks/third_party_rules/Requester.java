package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import java.util.Optional;

/**
 * The JSON form of Synapse's {@code Requester}: who performs a request.
 *
 * @param userId        the user
 * @param deviceId      the device, if the request came with one
 * @param isGuest       whether the user is a guest
 * @param shadowBanned  whether the user is shadow-banned
 * @param appServiceId  the application service acting for the user, if any
 */
public record Requester(String userId, Optional<String> deviceId, boolean isGuest, boolean shadowBanned,
                        Optional<String> appServiceId) {
    static Requester read(JsonArgs json) {
        return new Requester(json.userId("user_id"), json.optionalString("device_id"), json.bool("is_guest", false),
                json.bool("shadow_banned", false), json.optionalString("app_service_id"));
    }
}
