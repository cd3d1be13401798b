package dev.matrixpolicy.gateway.config;

import java.util.List;
import java.util.stream.Stream;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.Resource;

/**
 * A configuration file on disk must give settings. Spring Boot passes over one that names none
 * (empty, comments alone, {@code {}}, {@code ~}, {@code ---}), and the packaged demo chain, which
 * answers loopback callers only, would then start in its place: what a template that rendered
 * nothing or a file cut short by its writer looks like. It stops startup, and a reload, instead.
 * The files packaged in the gateway's jar are not files on disk and are not checked.
 */
final class SettingsRequired {
    private SettingsRequired() {
    }

    /** {@code read}, what {@code resource} gave, if it gave any setting or is no file on disk. */
    static List<PropertySource<?>> of(Resource resource, List<PropertySource<?>> read) {
        if (!resource.isFile() || read.stream().anyMatch(SettingsRequired::givesSettings)) {
            return read;
        }
        String file = BadSetting.file(resource);
        throw new InvalidConfigurationException("Configuration file without settings", new BadSetting(null, null,
                new TextResourceOrigin(resource, new TextResourceOrigin.Location(0, 0)),
                "it holds no settings (it is empty, holds only comments, or only an empty document such as {}, ~ or ---),"
                        + " so the packaged demo configuration would serve in its place",
                "Write the configuration into " + file + ". To run on the packaged defaults, remove the file or stop"
                        + " naming it in spring.config.location, spring.config.additional-location or spring.config.import,"
                        + " and start the gateway again."),
                null);
    }

    /** Whether a source names a setting: Boot reads {@code {}} as one nameless entry. */
    static boolean givesSettings(PropertySource<?> source) {
        return !(source instanceof EnumerablePropertySource<?> settings)
                || Stream.of(settings.getPropertyNames()).anyMatch(name -> name != null && !name.isEmpty());
    }
}
