package dev.matrixpolicy.gateway.config;

import java.util.List;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Turns a bad {@code modules} entry into one message naming the entry, its type and each bad
 * setting, with the value and the file and line it was written at when the setting is one written.
 */
final class ModuleFailureAnalyzer extends AbstractFailureAnalyzer<InvalidModuleException> {
    private final Environment environment;

    /** Spring Boot passes the failed application's environment, where the settings are looked up; null when there is none. */
    ModuleFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidModuleException cause) {
        List<BadSetting> settings = cause.settings();
        if (environment != null) {
            Iterable<ConfigurationPropertySource> sources = ConfigurationPropertySources.get(environment);
            settings = settings.stream()
                    .map(setting -> setting.key() == null ? setting : setting.locatedIn(cause.entryKey() + "." + setting.key(), sources))
                    .toList();
        }
        return new FailureAnalysis(
                "Invalid policy module configuration:\n\n    entry: " + cause.entry() + "\n"
                        + BadSetting.describe(settings, "field"),
                BadSetting.fixes(settings) + "\nEach module type's configuration keys are on its page in docs/modules/, linked from the README's module table.",
                cause);
    }
}
