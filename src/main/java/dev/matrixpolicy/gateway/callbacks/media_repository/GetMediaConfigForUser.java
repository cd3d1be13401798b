package dev.matrixpolicy.gateway.callbacks.media_repository;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code get_media_config_for_user} (Synapse 1.132+, experimental there): Called when a user asks
 * for the media config ({@code GET /_matrix/client/v1/media/config}); a map answered here is the
 * response body, empty keeps Synapse's own config.
 */
@FunctionalInterface
public interface GetMediaConfigForUser {

    CallbackType<GetMediaConfigForUser, Args, Optional<ObjectNode>> TYPE = new CallbackType<>(Category.MEDIA_REPOSITORY,
            "get_media_config_for_user", GetMediaConfigForUser.class, GetMediaConfigForUser::getMediaConfigForUser,
            Args::read, ResultTypes.MEDIA_CONFIG,
            Rules.noneOrEmptyFallsThrough());

    Optional<ObjectNode> getMediaConfigForUser(Args args);

    /**
     * @param userId the user asking
     */
    record Args(String userId) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"));
        }
    }
}
