package dev.matrixpolicy.gateway.modules.passwordfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.support.InPlaceWriter;
import dev.matrixpolicy.gateway.support.Rebuilds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload that changes a {@code password_file} entry builds a new instance while the old one serves
 * logins: the new one reads the file as carefully as a check does, so an admin who edits the entry
 * while a job rewrites the file never locks its users out.
 */
class PasswordFileRebuildTest {
    @RegisterExtension
    final Rebuilds rebuilds = new Rebuilds();

    @TempDir
    Path directory;

    /** The instance of an entry reading {@code file} with {@code maxConcurrent} verifications, built in place of {@code before}. */
    private PasswordFile build(Path file, int maxConcurrent, Optional<PolicyModule> before) {
        PasswordFile module = new PasswordFileModuleType(Hashes.LIMITS).create(
                new PasswordFileConfig(file, Map.of(), null, Duration.ofHours(1), maxConcurrent),
                rebuilds.context("passwords", before),
                PasswordVerifier.SPRING_SECURITY, System::nanoTime, Clock.systemUTC());
        return rebuilds.closedAfter(module);
    }

    @Test
    void aReloadThatRebuildsTheModuleWhileItsFileIsEmptiedKeepsItsUsersLoggingIn() throws IOException {
        Path file = Files.writeString(directory.resolve("passwords"), "alice:" + Hashes.WONDERLAND_BCRYPT + "\n");
        PasswordFile serving = build(file, 1, Optional.empty());

        Files.writeString(file, ""); // truncated by a job about to write it again, or by accident

        assertThatThrownBy(() -> build(file, 2, Optional.of(serving)))
                .isInstanceOfSatisfying(ModuleConfigurationException.class, refused -> assertThat(refused.field()).isEqualTo("file"))
                .hasMessageContaining(file + " is empty; write the file whole and move it into place");
        assertThat(serving.credentials().current().users()).as("the reload is refused: the instance serving keeps its users")
                .containsKey("alice");
    }

    @Test
    void aReloadThatRebuildsTheModuleWhileItsFileIsWrittenInPlaceNeverServesHalfTheUsers() throws Exception {
        Path file = Files.writeString(directory.resolve("passwords"), "alice:" + Hashes.WONDERLAND_BCRYPT + "\n");
        PasswordFile serving = build(file, 1, Optional.empty());

        CompletableFuture<Void> writing = InPlaceWriter.rewrite(file, users(0, 200), Duration.ofMillis(50), users(200, 400));
        PasswordFile rebuilt = build(file, 2, Optional.of(serving));
        writing.join();

        assertThat(rebuilt.credentials().current().users()).as("both halves").containsKeys("user0", "user399");
    }

    @Test
    void aRebuiltModuleReadingAnotherFileReadsItAsAtStartup() throws IOException {
        Path file = Files.writeString(directory.resolve("passwords"), "alice:" + Hashes.WONDERLAND_BCRYPT + "\n");
        PasswordFile serving = build(file, 1, Optional.empty());
        Path other = Files.writeString(directory.resolve("other"), "# nobody yet\n");

        PasswordFile rebuilt = build(other, 2, Optional.of(serving));

        assertThat(rebuilt.credentials().current().users()).isEmpty();
    }

    /** {@code user<from>} up to {@code to}, excluded, one a line, each with the same hash. */
    private static String users(int from, int to) {
        return IntStream.range(from, to).mapToObj(n -> "user" + n + ":" + Hashes.BUILDER_BCRYPT + "\n").collect(Collectors.joining());
    }
}
