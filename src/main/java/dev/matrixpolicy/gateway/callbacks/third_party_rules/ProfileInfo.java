package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import java.util.Optional;

/**
 * Synapse's {@code ProfileInfo}. On deactivation the display name is {@code ""} and the avatar is absent.
 *
 * @param displayName the display name, if any
 * @param avatarUrl   the avatar URL, if any
 */
public record ProfileInfo(Optional<String> displayName, Optional<String> avatarUrl) {
    static ProfileInfo read(JsonArgs json) {
        return new ProfileInfo(json.optionalString("display_name"), json.optionalString("avatar_url"));
    }
}
