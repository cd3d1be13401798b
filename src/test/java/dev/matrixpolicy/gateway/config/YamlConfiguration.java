package dev.matrixpolicy.gateway.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.FileSystemResource;

/**
 * Configuration as an administrator writes it: a YAML file, loaded by Spring Boot's own loader, so
 * that values keep their file and line.
 */
final class YamlConfiguration {

    private YamlConfiguration() {
    }

    /** Writes {@code yaml} to {@code file} and adds it to the context's environment, ahead of every other source. */
    static ApplicationContextInitializer<ConfigurableApplicationContext> file(Path file, String yaml) {
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
