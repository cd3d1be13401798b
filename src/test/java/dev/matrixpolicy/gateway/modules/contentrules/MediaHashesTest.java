package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MediaHashesTest {
    @TempDir
    Path directory;

    /** A reload that names a missing or bad file is refused; each attempt used to leave a polling thread behind. */
    @Test
    void aHashesFileThatIsRefusedLeavesNoThreadBehind() throws IOException {
        Path bad = Files.writeString(directory.resolve("bad.txt"), "not a hash\n");

        assertThatThrownBy(() -> MediaHashes.file("refused-1", "media.hashes-file", directory.resolve("missing.txt"), Duration.ofMinutes(1)))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> MediaHashes.file("refused-2", "media.hashes-file", bad, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(thread -> thread.getName().startsWith("content-rules-media-refused-"));
    }

    @Test
    void aHashesFileReadIsPolledOnItsOwnThreadUntilClosed() throws Exception {
        Path good = Files.writeString(directory.resolve("good.txt"), "A".repeat(64) + " # a known file\n");

        try (MediaHashes hashes = MediaHashes.file("kept", "media.hashes-file", good, Duration.ofMinutes(1))) {
            assertThat(hashes.contains("a".repeat(64))).isTrue();
            assertThat(Thread.getAllStackTraces().keySet()).anyMatch(thread -> thread.getName().equals("content-rules-media-kept"));
        }
    }
}
