package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import java.util.Optional;

/**
 * The JSON form of the file Synapse hands to {@code check_media_file_for_spam}: its metadata and a
 * SHA-256 hash instead of the bytes, so the homeserver never has to ship large files.
 *
 * @param sha256    the lower-case hex SHA-256 of the file's bytes
 * @param size      the size in bytes
 * @param mediaType the content type, if known
 */
public record MediaFile(String sha256, long size, Optional<String> mediaType) {
    static MediaFile read(JsonArgs json) {
        return new MediaFile(json.sha256("sha256"), json.count("size"), json.optionalString("media_type"));
    }
}
