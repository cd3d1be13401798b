package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.module.SecretFile;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A token given as {@code token} or {@code token-file}, as {@code policy-gateway.auth} and
 * {@code policy-gateway.admin} both take one: read the one way, refused with the same messages.
 */
final class TokenSetting {
    private TokenSetting() {
    }

    /** The check of a record's compact constructor: one of the two keys, not both. */
    static void requireAtMostOne(String token, Path tokenFile) {
        if (token != null && !token.isBlank() && tokenFile != null) {
            throw new InvalidSettingException("token-file", "set token or token-file, not both");
        }
    }

    /**
     * The token: the token file's content when there is one, else {@code token}; empty when neither
     * holds one. A token file that does not exist, cannot be read or is empty stops startup with one
     * message naming the key and the fix.
     *
     * @param prefix the settings' prefix, e.g. {@code policy-gateway.auth}
     * @param what   the token in words, for the fix, e.g. {@code the shared token (the one the homeserver's module sends)}
     */
    static Optional<String> read(String prefix, String token, Path tokenFile, String what) {
        if (tokenFile == null) {
            return Optional.ofNullable(token).map(String::strip).filter(value -> !value.isEmpty());
        }
        try {
            return Optional.of(SecretFile.read(tokenFile));
        } catch (SecretFile.UnreadableSecretException unreadable) {
            String key = prefix + ".token-file";
            String fix = switch (unreadable.problem()) {
                case MISSING -> "Create " + tokenFile + " holding " + what + ", or correct " + key + ".";
                case DENIED -> "Let the gateway's user read " + tokenFile + ", or correct " + key + ".";
                case NOT_TEXT -> "Write " + what + " into " + tokenFile + " as text.";
                case UNREADABLE -> "Point " + key + " at the file that holds " + what + ".";
                case EMPTY -> "Write " + what + " into " + tokenFile + ", or point " + key + " at the file that holds it.";
            };
            throw new InvalidConfigurationException("Invalid configuration",
                    new BadSetting(key, tokenFile, null, "the token file " + unreadable.predicate(), fix), unreadable);
        }
    }
}
