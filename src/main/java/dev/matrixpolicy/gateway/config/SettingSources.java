package dev.matrixpolicy.gateway.config;

import java.util.List;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.bootstrap.ConfigurableBootstrapContext;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.PropertySource;

/**
 * The property sources the application started with before Spring Boot read its configuration files:
 * command-line arguments, system properties, environment variables, {@code SPRING_APPLICATION_JSON},
 * a test's inlined properties. A reload starts from these, as startup did, and reads the files again.
 *
 * @param sources  the sources, highest precedence first; live objects, so an environment variable
 *                 reads as it reads now
 * @param profiles the profiles activated before the files were read (by the application or a test,
 *                 not by a file), which a reload activates again
 */
public record SettingSources(List<PropertySource<?>> sources, List<String> profiles) {
    public static final String BEAN_NAME = "policyGatewaySettingSources";

    public SettingSources {
        sources = List.copyOf(sources);
        profiles = List.copyOf(profiles);
    }

    /**
     * Takes the snapshot just before Spring Boot reads the configuration files, and hands it to the
     * application context as a bean when the bootstrap context closes (Spring Boot's way to pass
     * objects from environment preparation into the context).
     */
    static final class Snapshot implements EnvironmentPostProcessor, Ordered {
        private final ConfigurableBootstrapContext bootstrap;

        Snapshot(ConfigurableBootstrapContext bootstrap) {
            this.bootstrap = bootstrap;
        }

        @Override
        public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
            List<PropertySource<?>> sources = environment.getPropertySources().stream()
                    .filter(source -> !ConfigurationPropertySources.isAttachedConfigurationPropertySource(source))
                    .toList();
            SettingSources snapshot = new SettingSources(sources, List.of(environment.getActiveProfiles()));
            bootstrap.addCloseListener(closed -> closed.getApplicationContext().getBeanFactory()
                    .registerSingleton(BEAN_NAME, snapshot));
        }

        @Override
        public int getOrder() {
            return ConfigDataEnvironmentPostProcessor.ORDER - 1;
        }
    }
}
