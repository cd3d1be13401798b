package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.NamedPipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A policy list file that cannot be read or used says why in the words of every file reader of the
 * gateway (a module's user list, the media hashes, the password file), in its status and in its WARN
 * line alike, and names the file once.
 */
class FileSourceProblemsTest {
    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(PollingSource.class, Level.WARN);

    private final List<Collection<PolicyRule>> updates = new CopyOnWriteArrayList<>();

    @TempDir
    Path directory;

    @Test
    void aMissingPolicyFileIsReportedInTheWordsOfEveryFileReader() {
        Path file = directory.resolve("absent.txt");

        String problem = firstProblemOf(file);

        assertThat(problem).isEqualTo(file + " does not exist: create it, or correct the path");
        assertThat(logged.at(Level.WARN)).containsExactly("Policy list source 'local' could not be read, keeping its last good rules: "
                + file + " does not exist: create it, or correct the path");
    }

    @Test
    void aDirectoryNamedAsAPolicyFileIsReportedInTheWordsOfEveryFileReader() throws Exception {
        Path file = Files.createDirectory(directory.resolve("bans.txt"));

        assertThat(firstProblemOf(file)).isEqualTo(file + " is a directory: name a file");
    }

    /** Opened, a pipe would hold the source's thread until a writer came, with no status and no line. */
    @Test
    void aNamedPipeNamedAsAPolicyFileIsRefusedBeforeItIsOpened() throws Exception {
        try (NamedPipe pipe = NamedPipe.at(directory.resolve("bans.txt"))) {
            assertThat(firstProblemOf(pipe.path())).isEqualTo(pipe.path() + " is not a regular file (a device or a named pipe):"
                    + " name a regular file; a list meant to be empty holds a comment line");
        }
    }

    @Test
    void anEmptyPolicyFileIsReportedInTheWordsOfEveryFileReader() throws Exception {
        Path file = Files.writeString(directory.resolve("bans.txt"), "");

        assertThat(firstProblemOf(file)).isEqualTo(file + " is empty; write the file whole and move it into place, and to remove"
                + " every rule leave a comment line in it");
    }

    @Test
    void aPolicyFileNotInUtf8IsReportedInTheWordsOfEveryFileReader() throws Exception {
        Path file = Files.write(directory.resolve("bans.txt"), "ban user @a:example.com caf\u00e9\n".getBytes("ISO-8859-1"));

        assertThat(firstProblemOf(file)).isEqualTo(file + " is not valid UTF-8: save it as UTF-8");
    }

    @Test
    void aPolicyFileWithABadLineNamesTheFileOnceAndTheLine() throws Exception {
        Path file = Files.writeString(directory.resolve("bans.txt"), "ban user @a:example.com\nbna user @b:example.com\n");

        assertThat(firstProblemOf(file)).isEqualTo(file + ": line 2: 'bna' is not ban, takedown or allow");
        assertThat(logged.at(Level.WARN)).singleElement().asString()
                .isEqualTo("Policy list source 'local' could not be read, keeping its last good rules: " + file
                        + ": line 2: 'bna' is not ban, takedown or allow");
    }

    /** Reads the file as a source does, and returns what its status says after the first failed read. */
    private String firstProblemOf(Path file) {
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(updates).isEmpty();
            return source.status().lastError().orElseThrow();
        }
    }
}
