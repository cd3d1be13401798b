package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.hashing.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.FileSystemResource;

/** The configuration file loaders read a file once: its checks and its settings come from the same bytes, which its settings name. */
class ReadOnceTest {
    private static final String FIRST = "policy-gateway:\n  server-name: first.example\n";
    private static final String SECOND = "policy-gateway:\n  server-name: second.example\n";

    @TempDir
    Path directory;

    @Test
    void aYamlFileReplacedJustAfterItWasFirstReadGivesTheSettingsOfWhatWasReadAndTheirFingerprint() throws IOException {
        Path file = Files.writeString(directory.resolve("gateway.yml"), FIRST);

        List<PropertySource<?>> settings = new YamlFileLoader().load("gateway", replacedOnceRead(file));

        assertThat(settings).singleElement().satisfies(read -> {
            assertThat(read.getProperty("policy-gateway.server-name")).isEqualTo("first.example");
            assertThat(ReadOnce.fingerprint(read)).contains(Sha256.hexOf(FIRST.getBytes(StandardCharsets.UTF_8)));
            assertThat(ReadOnce.file(read)).contains(file);
        });
        assertThat(Files.readString(file)).isEqualTo(SECOND);
    }

    @Test
    void aPropertiesFileReplacedJustAfterItWasFirstReadGivesTheSettingsOfWhatWasReadAndTheirFingerprint() throws IOException {
        String first = "policy-gateway.server-name=first.example\n";
        Path file = Files.writeString(directory.resolve("gateway.properties"), first);

        List<PropertySource<?>> settings = new PropertiesFileLoader().load("gateway", replacedOnceRead(file));

        assertThat(settings).singleElement().satisfies(read -> {
            assertThat(read.getProperty("policy-gateway.server-name")).isEqualTo("first.example");
            assertThat(ReadOnce.fingerprint(read)).contains(Sha256.hexOf(first.getBytes(StandardCharsets.UTF_8)));
        });
    }

    @Test
    void settingsFromElsewhereHaveNoFingerprint() {
        assertThat(ReadOnce.fingerprint(new MapPropertySource("test", Map.of("policy-gateway.server-name", "example.com")))).isEmpty();
    }

    /** The file, rewritten with {@link #SECOND} as soon as its content has been read once: a writer that came just then. */
    private static FileSystemResource replacedOnceRead(Path file) {
        return new FileSystemResource(file) {
            private boolean read;

            @Override
            public InputStream getInputStream() throws IOException {
                InputStream content = super.getInputStream();
                replace();
                return content;
            }

            @Override
            public byte[] getContentAsByteArray() throws IOException {
                byte[] content = super.getContentAsByteArray();
                replace();
                return content;
            }

            private void replace() {
                if (!read) {
                    read = true;
                    try {
                        Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), SECOND);
                        Files.move(file.resolveSibling(file.getFileName() + ".tmp"), file,
                                StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    } catch (IOException unwritable) {
                        throw new UncheckedIOException(unwritable);
                    }
                }
            }
        };
    }
}
