package dev.matrixpolicy.gateway.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Configuration that stops startup outside of binding: a token file that cannot be read, a
 * configuration file that cannot be parsed. {@link ConfigurationFailureAnalyzer} prints it.
 */
final class InvalidConfigurationException extends RuntimeException {
    private final String heading;
    private final List<BadSetting> settings;

    /**
     * @param heading what kind of failure, e.g. {@code Invalid configuration}
     * @param setting the setting, with its origin when known; the analysis looks up a missing one
     */
    InvalidConfigurationException(String heading, BadSetting setting, Throwable cause) {
        this(heading, List.of(setting), cause);
    }

    /** @param settings the settings, at least one, each with its origin when known */
    InvalidConfigurationException(String heading, List<BadSetting> settings, Throwable cause) {
        super(settings.stream().map(setting -> (setting.key() == null ? "" : setting.key() + ": ") + setting.problem())
                .collect(Collectors.joining("; ")), cause);
        this.heading = heading;
        this.settings = List.copyOf(settings);
    }

    String heading() {
        return heading;
    }

    List<BadSetting> settings() {
        return settings;
    }
}
