package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import java.util.Optional;

/**
 * Synapse's {@code UserProfile} dict, as listed in user directory search results.
 *
 * @param userId      the user
 * @param displayName the display name, if set
 * @param avatarUrl   the {@code mxc://} avatar URL, if set
 */
public record UserProfile(String userId, Optional<String> displayName, Optional<String> avatarUrl) {
    static UserProfile read(JsonArgs json) {
        return new UserProfile(json.userId("user_id"), json.optionalString("display_name"), json.optionalString("avatar_url"));
    }
}
