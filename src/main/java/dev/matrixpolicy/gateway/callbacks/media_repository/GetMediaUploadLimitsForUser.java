package dev.matrixpolicy.gateway.callbacks.media_repository;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.List;
import java.util.Optional;

/**
 * {@code get_media_upload_limits_for_user} (Synapse 1.139+, experimental there): Called on each upload
 * to find the user's windowed upload limits, instead of the configured {@code media_upload_limits}. An
 * empty list lifts every limit; empty (no answer) keeps the configured ones.
 *
 * <p>Synapse's docs give this callback a {@code size} parameter; its code passes only {@code user_id}.
 * The gateway follows the code and ignores any other field.
 */
@FunctionalInterface
public interface GetMediaUploadLimitsForUser {

    CallbackType<GetMediaUploadLimitsForUser, Args, Optional<List<MediaUploadLimit>>> TYPE = new CallbackType<>(
            Category.MEDIA_REPOSITORY, "get_media_upload_limits_for_user", GetMediaUploadLimitsForUser.class,
            GetMediaUploadLimitsForUser::getMediaUploadLimitsForUser,
            Args::read, ResultTypes.MEDIA_UPLOAD_LIMITS,
            Rules.noneFallsThrough());

    Optional<List<MediaUploadLimit>> getMediaUploadLimitsForUser(Args args);

    /**
     * @param userId the uploading user
     */
    record Args(String userId) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"));
        }
    }
}
