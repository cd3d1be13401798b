package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import dev.matrixpolicy.gateway.testmodules.TestModulesAutoConfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.io.FileSystemResource;

/**
 * The subject of the configuration tests: the gateway's configuration with every module type,
 * built-in and test, and no web server; configuration as an administrator writes it; and what
 * Spring Boot prints when it is wrong.
 */
final class ConfiguredGateway {

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = "dev.matrixpolicy.gateway.modules")
    static class BuiltInModuleTypes {
    }

    /** The last context's environment, which a failed context no longer gives out. */
    private final AtomicReference<ConfigurableEnvironment> environment = new AtomicReference<>();

    ApplicationContextRunner runner() {
        return ScannedOnceContext.runner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class, TestModulesAutoConfiguration.class))
                .withUserConfiguration(GatewayConfiguration.class, BuiltInModuleTypes.class)
                .withBean(SimpleMeterRegistry.class)
                .withInitializer(context -> environment.set(context.getEnvironment()));
    }

    /** The description and action printed for a context that failed to bind {@code policy-gateway}. */
    String propertiesFailure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new PropertiesFailureAnalyzer(environment.get()).analyze(context.getStartupFailure());
        assertThat(analysis).as("an analysis of %s", context.getStartupFailure()).isNotNull();
        return analysis.getDescription() + "\n" + analysis.getAction();
    }

    /**
     * What startup (and a refused reload) says of a failed context: every analyzer asked in the order
     * Spring Boot asks them, the first that answers wins.
     */
    String startupScreen(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        return ConfigurationLoader.describe((RuntimeException) context.getStartupFailure(), Optional.of(environment.get()));
    }

    /** What is printed for a bad {@code modules} entry. */
    record ModuleFailure(InvalidModuleException cause, String description, String action) {
    }

    /** What is printed for a context that failed on a bad {@code modules} entry. */
    static ModuleFailure moduleFailure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new ModuleFailureAnalyzer(null).analyze(context.getStartupFailure());
        assertThat(analysis).as("a module failure analysis of %s", context.getStartupFailure()).isNotNull();
        return new ModuleFailure((InvalidModuleException) analysis.getCause(), analysis.getDescription(), analysis.getAction());
    }

    /**
     * Writes {@code yaml} to {@code file} and adds it to the context's environment ahead of every
     * other source, loaded by Spring Boot's own loader, so that values keep their file and line.
     */
    static ApplicationContextInitializer<ConfigurableApplicationContext> yamlFile(Path file, String yaml) {
        return context -> {
            try {
                Files.writeString(file, yaml);
                new YamlFileLoader().load(file.getFileName().toString(), new FileSystemResource(file)).reversed()
                        .forEach(source -> context.getEnvironment().getPropertySources().addFirst(source));
            } catch (IOException unreadable) {
                throw new UncheckedIOException(unreadable);
            }
        };
    }
}
