package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a secret file (a token, a key) reads as. */
class SecretFileTest {
    @TempDir
    Path directory;

    @Test
    void aFileSavedWithAByteOrderMarkAndALineBreakReadsAsItsSecretAlone() throws IOException {
        Path token = Files.writeString(directory.resolve("token"), "\uFEFFs3cret-token\r\n");

        assertThat(SecretFile.read(token)).isEqualTo("s3cret-token");
    }
}
