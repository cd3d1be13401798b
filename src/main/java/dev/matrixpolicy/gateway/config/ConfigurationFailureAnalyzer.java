package dev.matrixpolicy.gateway.config;

import java.util.List;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/** Turns configuration that stops startup outside of binding into one message: key, value, file and line, problem and fix. */
final class ConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigurationException> {
    private final Environment environment;

    /**
     * Spring Boot passes the failed application's environment, where a setting's file and line are
     * looked up; {@code null} when startup fails before there is one (a configuration file that
     * cannot be parsed, whose exception carries its file and line itself).
     */
    ConfigurationFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigurationException cause) {
        Iterable<ConfigurationPropertySource> sources = environment == null ? null : ConfigurationPropertySources.get(environment);
        List<BadSetting> settings = sources == null ? cause.settings()
                : cause.settings().stream().map(setting -> setting.locatedIn(sources)).toList();
        return BadSetting.analysis(cause.heading(), settings, cause);
    }
}
