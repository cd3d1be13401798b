package dev.matrixpolicy.gateway.config;

/**
 * Configuration that stops startup outside of binding: a token file that cannot be read, a
 * configuration file that cannot be parsed. {@link ConfigurationFailureAnalyzer} prints it.
 */
final class InvalidConfigurationException extends RuntimeException {
    private final String heading;
    private final BadSetting setting;

    /**
     * @param heading what kind of failure, e.g. {@code Invalid configuration}
     * @param setting the setting, with its origin when known; the analysis looks up a missing one
     */
    InvalidConfigurationException(String heading, BadSetting setting, Throwable cause) {
        super((setting.key() == null ? "" : setting.key() + ": ") + setting.problem(), cause);
        this.heading = heading;
        this.setting = setting;
    }

    String heading() {
        return heading;
    }

    BadSetting setting() {
        return setting;
    }
}
