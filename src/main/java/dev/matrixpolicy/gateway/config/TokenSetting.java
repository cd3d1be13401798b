package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.module.SecretFile;
import java.nio.file.Path;
import java.util.List;
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
            Optional<String> given = Optional.ofNullable(token).map(String::strip).filter(value -> !value.isEmpty());
            given.ifPresent(text -> requireHeaderSafe(prefix + ".token", null, text));
            return given;
        }
        try {
            String text = SecretFile.read(tokenFile);
            requireHeaderSafe(prefix + ".token-file", tokenFile, text);
            return Optional.of(text);
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

    /** The tokens a token setting's text holds: one a line, white space around each ignored, blank lines skipped. */
    static List<String> lines(String text) {
        return text.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }

    /**
     * Refuses a token no {@code Authorization} header can carry (a control character: a tab, a
     * carriage return), which would make every caller's token wrong. The message never quotes it.
     */
    private static void requireHeaderSafe(String key, Path file, String text) {
        for (String token : lines(text)) {
            if (token.chars().anyMatch(Character::isISOControl)) {
                throw new InvalidConfigurationException("Invalid configuration", new BadSetting(key, file, null,
                        "a token holds a control character, which no Authorization header can carry",
                        "Write each token on a line of its own, with no tab or other control character in it."), null);
            }
        }
    }
}
