package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.config.ConfigDataLocation;
import org.springframework.core.io.DefaultResourceLoader;

/** Which optional locations the gateway refuses where Spring Boot would pass over them without a word. */
class OptionalLocationWithoutFormatTest {
    private final OptionalLocationWithoutFormat resolver = new OptionalLocationWithoutFormat(new DefaultResourceLoader());

    @TempDir
    Path directory;

    @Test
    void anOptionalLocationNamingAFileWithoutAKnownExtensionThatIsThereIsRefusedSayingHowToNameItsFormat() throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.conf"), "policy-gateway:\n  server-name: example.com\n");

        for (String location : new String[] {"optional:file:" + config, "optional:" + config}) {
            assertThat(resolver.isResolvable(null, ConfigDataLocation.of(location))).as(location).isTrue();
        }
        assertThatThrownBy(() -> resolver.resolve(null, ConfigDataLocation.of("optional:file:" + config)))
                .isInstanceOf(ConfigLocationFailureAnalyzer.WithoutFormat.class)
                .hasMessageStartingWith("The configuration location 'optional:file:" + config + "' names a file whose name does not end in .yml")
                .hasMessageContaining("'optional:file:" + config + "[.yml]'");
    }

    @Test
    void anOptionalLocationThatIsAbsentOrReadableByItsNameOrNotAFileIsLeftToBoot() throws IOException {
        Path yaml = Files.writeString(directory.resolve("gateway.YML"), "policy-gateway:\n  server-name: example.com\n");
        Path conf = Files.writeString(directory.resolve("gateway.conf"), "policy-gateway:\n  server-name: example.com\n");

        for (String location : new String[] {"optional:file:" + directory.resolve("absent.conf"), "optional:file:" + yaml,
                "optional:file:" + conf + "[.yml]", "optional:file:" + directory + "/", "file:" + conf,
                "optional:classpath:gateway.conf", "optional:configtree:" + directory + "/"}) {
            assertThat(resolver.isResolvable(null, ConfigDataLocation.of(location))).as(location).isFalse();
        }
    }
}
