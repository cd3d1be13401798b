package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import jakarta.validation.Validation;
import jakarta.validation.ValidatorFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.DefaultResourceLoader;

/**
 * What a reload reports ({@link ConfigurationLoader#describe}) for a location whose file has no extension
 * Spring Boot reads by, which appears only after startup: the startup screen's problem and fix, in one line.
 */
class ReloadedLocationWithoutFormatTest {
    private final ValidatorFactory validation = Validation.buildDefaultValidatorFactory();

    @TempDir
    Path directory;

    @AfterEach
    void close() {
        validation.close();
    }

    @Test
    void aFileAppearingAtAnOptionalLocationWithoutAKnownExtensionIsReportedWithTheStartupScreensFix() throws IOException {
        Path config = directory.resolve("gateway.conf");
        ConfigurationLoader loader = loader(Map.of("spring.config.additional-location", "optional:file:" + config));
        loader.load(file -> { });
        Files.writeString(config, "policy-gateway:\n  server-name: example.com\n");

        String reported = ConfigurationLoader.describe(catchThrowableOfType(RuntimeException.class, () -> loader.load(file -> { })),
                Optional.empty());

        assertThat(reported).isEqualTo("The configuration location 'optional:file:" + config + "' names a file whose name does not end"
                + " in .yml, .yaml or .properties, by which the gateway knows how to read it. Fix: Name a file ending in .yml,"
                + " .yaml or .properties, or give the format in brackets after the location: 'optional:file:" + config
                + "[.yml]'. A location meant as a directory ends in '/'.");
    }

    @Test
    void anImportWithoutAKnownExtensionAddedToAFileIsReportedWithTheStartupScreensFixNotBootsBareFailure() throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), "policy-gateway:\n  server-name: example.com\n");
        ConfigurationLoader loader = loader(Map.of("spring.config.additional-location", "file:" + config));
        loader.load(file -> { });
        Path imported = Files.writeString(directory.resolve("more.conf"), "policy-gateway:\n  server-name: example.com\n");
        Files.writeString(config, "spring.config.import: file:" + imported + "\npolicy-gateway:\n  server-name: example.com\n");

        String reported = ConfigurationLoader.describe(catchThrowableOfType(RuntimeException.class, () -> loader.load(file -> { })),
                Optional.empty());

        assertThat(reported).startsWith("The configuration location 'file:" + imported + "' names a file whose name does not end in .yml")
                .contains("Fix: Name a file ending in .yml, .yaml or .properties").contains("'file:" + imported + "[.yml]'");
    }

    private ConfigurationLoader loader(Map<String, Object> arguments) {
        return new ConfigurationLoader(new SettingSources(List.of(new MapPropertySource("commandLineArgs", arguments)), List.of()),
                new DefaultResourceLoader(), validation.getValidator());
    }
}
