package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code check_media_file_for_spam}: Called when storing a local or remote media file.
 */
@FunctionalInterface
public interface CheckMediaFileForSpam {

    CallbackType<CheckMediaFileForSpam, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "check_media_file_for_spam",
            CheckMediaFileForSpam.class, CheckMediaFileForSpam::checkMediaFileForSpam,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict checkMediaFileForSpam(Args args);

    /**
     * @param fileInfo Synapse's {@code FileInfo}: {@code server_name}, {@code file_id}, {@code url_cache}, {@code thumbnail}
     * @param file the file itself, as its metadata and hash (the bytes are not sent)
     */
    record Args(ObjectNode fileInfo, MediaFile file) {
        static Args read(JsonArgs json) {
            return new Args(json.object("file_info"), MediaFile.read(json.nested("file")));
        }
    }
}
