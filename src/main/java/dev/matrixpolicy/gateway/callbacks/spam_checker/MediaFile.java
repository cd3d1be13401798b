package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
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
        String sha256 = json.string("sha256");
        if (!isSha256Hex(sha256)) {
            throw new BadArgumentException(BadArgumentException.Kind.INVALID, "file.sha256",
                    "'file.sha256' must be 64 lower-case hex digits");
        }
        long size = json.integer("size");
        if (size < 0) {
            throw new BadArgumentException(BadArgumentException.Kind.INVALID, "file.size", "'file.size' must not be negative");
        }
        return new MediaFile(sha256, size, json.optionalString("media_type"));
    }

    private static boolean isSha256Hex(String candidate) {
        return candidate.length() == 64
                && candidate.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
}
