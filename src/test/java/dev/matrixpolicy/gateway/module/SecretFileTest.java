package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.support.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

    /** Opening a named pipe blocks until a writer comes: the read would never end, and a reload with it. */
    @Test
    void aNamedPipeIsRefusedAsUnreadableWithoutBeingOpened() throws Exception {
        Path pipe = directory.resolve("token");
        Commands.run("mkfifo", pipe.toString());

        CompletableFuture<Void> read = CompletableFuture.runAsync(() -> SecretFile.read(pipe));
        assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(SecretFile.UnreadableSecretException.class)
                .hasMessage(pipe + " cannot be read: is not a regular file");
    }
}
