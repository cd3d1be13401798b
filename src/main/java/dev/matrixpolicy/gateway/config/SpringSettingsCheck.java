package dev.matrixpolicy.gateway.config;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.boot.context.properties.ConfigurationPropertiesBean;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.logging.LogLevel;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Spring Boot's own settings ({@code server.*}, {@code management.*}, {@code spring.*},
 * {@code logging.level.*}) bound from a configuration a reload read, as the next start will bind
 * them. A reload cannot apply them, but one that accepted a value no start can bind
 * ({@code server.shutdown: sometimes}, {@code server.port: eighty}) would leave every restarted
 * replica failing to start, long after the edit, while the reload said the configuration was fine.
 *
 * <p>Each settings class of the running application ({@code @ConfigurationProperties}) that one of
 * the changed keys belongs to is bound afresh, never into the instance that serves.
 */
public final class SpringSettingsCheck {
    private static final ConfigurationPropertyName LOGGING_LEVEL = ConfigurationPropertyName.of("logging.level");

    private final Supplier<Collection<ConfigurationPropertiesBean>> settingsClasses;

    public SpringSettingsCheck(ApplicationContext context) {
        this.settingsClasses = () -> ConfigurationPropertiesBean.getAll(context).values();
    }

    /**
     * Binds what the {@code changed} keys belong to from {@code environment}; throws on the first
     * setting that would stop the next start, described as the start describes a bad setting.
     */
    public void requireBindable(ConfigurableEnvironment environment, Collection<String> changed) {
        List<ConfigurationPropertyName> keys = changed.stream()
                .map(key -> ConfigurationPropertyName.adapt(key, '.'))
                .filter(key -> !key.isEmpty())
                .toList();
        if (keys.isEmpty()) {
            return;
        }
        Binder binder = Binder.get(environment);
        for (ConfigurationPropertiesBean settings : settingsClasses.get()) {
            ConfigurationPropertyName prefix = ConfigurationPropertyName.of(settings.getAnnotation().prefix());
            boolean concerned = keys.stream().anyMatch(key -> prefix.equals(key) || prefix.isAncestorOf(key));
            if (concerned && !PropertiesFailureAnalyzer.ROOT.equals(prefix) && !settings.getAnnotation().ignoreInvalidFields()) {
                Bindable<?> serving = settings.asBindTarget();
                bind(binder, prefix, Bindable.of(serving.getType()).withAnnotations(serving.getAnnotations())
                        .withBindMethod(serving.getBindMethod()), environment);
            }
        }
        if (keys.stream().anyMatch(LOGGING_LEVEL::isAncestorOf)) {
            // Spring Boot's logging system reads the levels itself, as names of LogLevel.
            bind(binder, LOGGING_LEVEL, Bindable.mapOf(String.class, LogLevel.class), environment);
        }
    }

    private static void bind(Binder binder, ConfigurationPropertyName prefix, Bindable<?> target,
                             ConfigurableEnvironment environment) {
        try {
            binder.bind(prefix, target);
        } catch (BindException invalid) {
            Class<?> type = target.getType().resolve(Object.class);
            List<BadSetting> settings = BindFailures.describe(invalid, prefix, type, prefix.toString(), Map.of(),
                    ConfigurationPropertySources.get(environment));
            throw new InvalidConfigurationException("Invalid configuration", settings.getFirst(), invalid);
        }
    }
}
