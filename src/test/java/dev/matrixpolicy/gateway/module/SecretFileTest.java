package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.matrixpolicy.gateway.support.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
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

    @Test
    void aRecordTellsEachSecretFileThisThreadReadWithWhatItHeldAndAnOuterRecordToo() throws Exception {
        Path token = Files.writeString(directory.resolve("token"), "s3cret-token\n");
        Path missing = directory.resolve("missing");

        try (SecretFile.Reads outer = SecretFile.Reads.record()) {
            SecretFile.read(token);
            try (SecretFile.Reads inner = SecretFile.Reads.record()) {
                assertThatThrownBy(() -> SecretFile.read(missing)).isInstanceOf(SecretFile.UnreadableSecretException.class);
                CompletableFuture.runAsync(() -> SecretFile.read(token)).get(10, TimeUnit.SECONDS); // another thread's

                assertThat(inner.read()).containsExactly(entry(missing, Optional.empty()));
            }
            SecretFile.fingerprintNow(token); // a look, not a read

            assertThat(outer.read()).containsExactly(entry(token, Optional.of(SecretFile.fingerprint("s3cret-token"))),
                    entry(missing, Optional.empty()));
        }
        SecretFile.read(token); // no record open: told to none
    }
}
