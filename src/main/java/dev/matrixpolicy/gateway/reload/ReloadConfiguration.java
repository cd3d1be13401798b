package dev.matrixpolicy.gateway.reload;

import dev.matrixpolicy.gateway.config.ConfigurationLoader;
import dev.matrixpolicy.gateway.config.GenerationBuilder;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.config.SettingSources;
import dev.matrixpolicy.gateway.config.SpringSettingsCheck;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.Validator;
import java.time.Clock;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.io.ResourceLoader;

/** The reloader, its file watcher (unless {@code policy-gateway.reload.watch} is false), endpoint and health. */
@Configuration(proxyBeanMethods = false)
class ReloadConfiguration {

    @Bean
    Reloader reloader(Generations generations, GenerationBuilder builder, MeterRegistry registry, Validator validator,
                      ResourceLoader resourceLoader, @Qualifier(SettingSources.BEAN_NAME) SettingSources startSources,
                      ApplicationContext context) {
        return new Reloader(generations, builder, new ConfigurationLoader(startSources, resourceLoader, validator),
                new SpringSettingsCheck(context), ((ConfigurableEnvironment) context.getEnvironment()).getPropertySources(),
                registry, Clock.systemUTC());
    }

    @Bean
    @ConditionalOnBooleanProperty(name = "policy-gateway.reload.watch", matchIfMissing = true)
    FileWatcher configurationFileWatcher(Reloader reloader, PolicyGatewayProperties properties) {
        return new FileWatcher(reloader, properties.reload().checkInterval());
    }

    @Bean
    ReloadEndpoint reloadEndpoint(Reloader reloader, Generations generations) {
        return new ReloadEndpoint(reloader, generations);
    }

    @Bean
    ReloadHealthIndicator configReloadHealthIndicator(Reloader reloader, Generations generations) {
        return new ReloadHealthIndicator(reloader, generations);
    }
}
