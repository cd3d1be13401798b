package dev.matrixpolicy.gateway.config;

/**
 * A configuration record's own check refuses one of its settings, one its types cannot express
 * (a malformed server name, two settings that exclude each other). Thrown by the compact
 * constructors of the {@code policy-gateway} records; the failure analysis adds the full key, the
 * value and the file and line it was written at.
 */
final class InvalidSettingException extends IllegalArgumentException {
    private final String key;

    /**
     * @param key     the setting, relative to the record that refuses it, e.g. {@code server-name}
     * @param problem what is wrong, for a human
     */
    InvalidSettingException(String key, String problem) {
        super(key + ": " + problem);
        this.key = key;
    }

    String key() {
        return key;
    }

    String problem() {
        return getMessage().substring(key.length() + 2);
    }
}
