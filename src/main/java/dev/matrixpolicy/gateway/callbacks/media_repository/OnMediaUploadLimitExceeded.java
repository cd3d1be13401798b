package dev.matrixpolicy.gateway.callbacks.media_repository;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;

/**
 * {@code on_media_upload_limit_exceeded} (Synapse 1.139+, experimental there): Called when an upload
 * is refused because it would exceed one of the user's upload limits; it cannot change the outcome.
 */
@FunctionalInterface
public interface OnMediaUploadLimitExceeded {

    CallbackType<OnMediaUploadLimitExceeded, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.MEDIA_REPOSITORY,
            "on_media_upload_limit_exceeded", OnMediaUploadLimitExceeded.class, (module, args) -> {
                module.onMediaUploadLimitExceeded(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onMediaUploadLimitExceeded(Args args);

    /**
     * @param userId         the uploading user
     * @param limit          the limit the upload would have exceeded
     * @param sentBytes      the bytes the user already uploaded in the limit's period
     * @param attemptedBytes the size of the refused upload
     */
    record Args(String userId, MediaUploadLimit limit, long sentBytes, long attemptedBytes) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.mediaUploadLimit("limit"),
                    json.count("sent_bytes"), json.count("attempted_bytes"));
        }
    }
}
