package dev.matrixpolicy.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wait between two reads of changed content, and the second read. */
class SettlingTest {
    @TempDir
    Path directory;

    @Test
    void theWaitLastsTheSettleTime() {
        long started = System.nanoTime();

        assertThat(Settling.waited()).isTrue();

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Settling.SETTLE);
    }

    @Test
    void aStoppingThreadDoesNotWaitAndKeepsItsInterruption() {
        Thread.currentThread().interrupt();
        try {
            assertThat(Settling.waited()).as("nothing read should be applied").isFalse();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted(); // leave the test runner's thread as it was
        }
    }

    @Test
    void aFileThatStillHoldsWhatWasReadHasSettledByteForByteAcrossChunks() throws IOException {
        byte[] content = new byte[150 * 1024]; // more than two chunks of the comparison
        Arrays.fill(content, (byte) 'x');
        Path file = Files.write(directory.resolve("list.txt"), content);

        assertThat(Settling.settled(file, content)).isTrue();

        byte[] longer = Arrays.copyOf(content, content.length + 1);
        byte[] shorter = Arrays.copyOf(content, content.length - 1);
        byte[] changed = content.clone();
        changed[content.length - 1] = 'y';
        assertThat(Settling.settled(file, longer)).as("the file is shorter than what was read").isFalse();
        assertThat(Settling.settled(file, shorter)).as("the file grew").isFalse();
        assertThat(Settling.settled(file, changed)).as("its last byte changed").isFalse();
    }

    @Test
    void aReadThatHasNoNextCheckTriesAgainWhileTheFileChangesAndTakesItOnceSettled() throws IOException {
        Path file = Files.writeString(directory.resolve("list.txt"), "whole\n");
        AtomicInteger attempts = new AtomicInteger();

        String read = Settling.read(file, () -> attempts.incrementAndGet() < 3 ? Optional.empty() : Optional.of("whole"));

        assertThat(read).isEqualTo("whole");
        assertThat(attempts).hasValue(3);
    }

    @Test
    void aFileThatChangesAtEveryAttemptIsRefusedAsStillBeingWritten() throws IOException {
        Path file = Files.writeString(directory.resolve("list.txt"), "half");
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> Settling.read(file, () -> {
            attempts.incrementAndGet();
            return Optional.empty();
        })).isInstanceOfSatisfying(Settling.StillChanging.class, changing -> assertThat(FileReadProblem.of(file, changing))
                .isEqualTo(file + " is still being written (it changed at each of 10 reads): write the file whole and move it"
                        + " into place, then reload"));
        assertThat(attempts).hasValue(Settling.ATTEMPTS);
    }
}
