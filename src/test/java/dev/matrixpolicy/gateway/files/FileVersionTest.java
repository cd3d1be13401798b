package dev.matrixpolicy.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What tells one version of a file from the next, on a real file system, and when a read of one may be remembered. */
class FileVersionTest {
    private static final FileTime WRITTEN = FileTime.from(Instant.parse("2024-01-01T00:00:00Z"));

    @TempDir
    Path directory;

    private Path write(String name, String content) throws IOException {
        Path file = directory.resolve(name);
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, WRITTEN);
        return file;
    }

    @Test
    void anUntouchedFileKeepsItsVersion() throws IOException {
        Path file = write("list.txt", "@a:example.com\n");

        assertThat(FileVersion.of(file)).isEqualTo(FileVersion.of(file));
        assertThat(FileVersion.of(file).modified()).isEqualTo(WRITTEN);
        assertThat(FileVersion.of(file).size()).isEqualTo(15);
    }

    @Test
    void aRewriteThatMovesTheModificationTimeOrTheSizeIsAnotherVersion() throws IOException {
        Path file = write("list.txt", "@a:example.com\n");
        FileVersion before = FileVersion.of(file);

        Files.setLastModifiedTime(file, FileTime.from(WRITTEN.toInstant().plusSeconds(1)));
        assertThat(FileVersion.of(file)).isNotEqualTo(before);

        write("list.txt", "@a:example.com\n@b:example.com\n");
        assertThat(FileVersion.of(file)).as("same time, another size").isNotEqualTo(before);
    }

    @Test
    void aRewriteWithinTheModificationTimesTickAtTheSameSizeKeepsItsVersion() throws IOException {
        Path file = write("list.txt", "@a:example.com\n");
        FileVersion before = FileVersion.of(file);

        write("list.txt", "@b:example.com\n"); // what a file system that keeps times to the second shows

        assertThat(FileVersion.of(file)).as("why a read in the tick is not remembered").isEqualTo(before);
    }

    @Test
    void aFileSwappedForAnotherOfTheSameSizeAndTimeIsAnotherVersion() throws IOException {
        Path file = write("list.txt", "@a:example.com\n");
        FileVersion before = FileVersion.of(file);
        assumeThat(before.identity()).as("a file system that keeps file keys").isNotEqualTo("");

        // as a Kubernetes ConfigMap update does: a new file moved into place
        Path replacement = write("list.txt.new", "@b:example.com\n");
        Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        assertThat(FileVersion.of(file)).isNotEqualTo(before);
    }

    @Test
    void aSymbolicLinkIsFollowedToTheFileItLeadsTo() throws IOException {
        Path file = write("list.txt", "@a:example.com\n");
        Path link = Files.createSymbolicLink(directory.resolve("link.txt"), file);

        assertThat(FileVersion.of(link)).isEqualTo(FileVersion.of(file));
    }

    @Test
    void aRewriteWithinTheModificationTimesTickIsReadAgain() throws IOException {
        FileVersion version = FileVersion.of(write("list.txt", "@a:example.com\n"));

        FileVersion remembered = version.asReadAt(WRITTEN.toInstant().plusMillis(100));

        assertThat(remembered).isEqualTo(FileVersion.NONE);
        assertThat(FileVersion.of(directory.resolve("list.txt"))).as("so the next check reads the file").isNotEqualTo(remembered);
    }

    @Test
    void aReadThatStartedLateEnoughAfterTheModificationTimeIsRemembered() throws IOException {
        FileVersion version = FileVersion.of(write("list.txt", "@a:example.com\n"));

        assertThat(version.asReadAt(WRITTEN.toInstant().plus(FileVersion.AMBIGUOUS))).isSameAs(version);
        assertThat(version.asReadAt(WRITTEN.toInstant().plus(Duration.ofDays(1)))).isSameAs(version);
        assertThat(version.asReadAt(WRITTEN.toInstant().plus(FileVersion.AMBIGUOUS).minusNanos(1))).isEqualTo(FileVersion.NONE);
    }

    @Test
    void theVersionOfNoFileIsNotThatOfAnEmptyFile() throws IOException {
        Path empty = write("empty.txt", "");

        assertThat(FileVersion.of(empty)).isNotEqualTo(FileVersion.NONE);
    }

    @Test
    void aMissingFileHasNoVersionAndSaysSoAsTheFileSystemDoes() {
        assertThatThrownBy(() -> FileVersion.of(directory.resolve("absent.txt"))).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> FileVersion.ofRegularFile(directory.resolve("absent.txt"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void onlyARegularFileHasTheVersionOfARegularFile() throws IOException {
        Path subdirectory = Files.createDirectory(directory.resolve("lists"));

        assertThat(FileVersion.of(subdirectory)).isNotEqualTo(FileVersion.NONE);
        assertThatThrownBy(() -> FileVersion.ofRegularFile(subdirectory)).isInstanceOf(IOException.class)
                .hasMessage("is not a regular file");
        assertThat(FileVersion.ofRegularFile(write("list.txt", ""))).isEqualTo(FileVersion.of(directory.resolve("list.txt")));
    }

    /** {@code /dev/null} for a list meant to be empty, say: the fix is a file, not the path or its permissions. */
    @Test
    void aDeviceIsRefusedSayingToNameARegularFile() {
        Path device = Path.of("/dev/null");

        assertThatThrownBy(() -> FileVersion.ofRegularFile(device)).isInstanceOfSatisfying(IOException.class,
                notAFile -> assertThat(FileReadProblem.of(device, notAFile)).isEqualTo("/dev/null is not a regular file (a device"
                        + " or a named pipe): name a regular file; a list meant to be empty holds a comment line"));
    }
}
