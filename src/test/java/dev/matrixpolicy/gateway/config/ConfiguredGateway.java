package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.testmodules.TestModulesAutoConfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.FileSystemResource;

/**
 * The subject of the configuration tests: the gateway's configuration with every module type,
 * built-in and test, and no web server; and configuration as an administrator writes it.
 */
final class ConfiguredGateway {

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = "dev.matrixpolicy.gateway.modules")
    static class BuiltInModuleTypes {
    }

    private ConfiguredGateway() {
    }

    static ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class, TestModulesAutoConfiguration.class))
                .withUserConfiguration(GatewayConfiguration.class, BuiltInModuleTypes.class)
                .withBean(SimpleMeterRegistry.class);
    }

    /**
     * Writes {@code yaml} to {@code file} and adds it to the context's environment ahead of every
     * other source, loaded by Spring Boot's own loader, so that values keep their file and line.
     */
    static ApplicationContextInitializer<ConfigurableApplicationContext> yamlFile(Path file, String yaml) {
        return context -> {
            try {
                Files.writeString(file, yaml);
                new YamlPropertySourceLoader().load(file.getFileName().toString(), new FileSystemResource(file)).reversed()
                        .forEach(source -> context.getEnvironment().getPropertySources().addFirst(source));
            } catch (IOException unreadable) {
                throw new UncheckedIOException(unreadable);
            }
        };
    }
}
