package dev.matrixpolicy.gateway.callbacks.media_repository;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code is_user_allowed_to_upload_media_of_size} (Synapse 1.132+, experimental there): Called before
 * an upload is accepted, with the size the client declared. {@code false} refuses it with 413
 * {@code M_TOO_LARGE}.
 */
@FunctionalInterface
public interface IsUserAllowedToUploadMediaOfSize {

    CallbackType<IsUserAllowedToUploadMediaOfSize, Args, Boolean> TYPE = new CallbackType<>(Category.MEDIA_REPOSITORY,
            "is_user_allowed_to_upload_media_of_size", IsUserAllowedToUploadMediaOfSize.class,
            IsUserAllowedToUploadMediaOfSize::isUserAllowedToUploadMediaOfSize,
            Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    boolean isUserAllowedToUploadMediaOfSize(Args args);

    /**
     * @param userId the uploading user
     * @param size   the upload's size in bytes
     */
    record Args(String userId, long size) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.count("size"));
        }
    }
}
