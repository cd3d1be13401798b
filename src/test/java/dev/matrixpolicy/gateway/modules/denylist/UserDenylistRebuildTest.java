package dev.matrixpolicy.gateway.modules.denylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.support.InPlaceWriter;
import dev.matrixpolicy.gateway.support.Rebuilds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload that changes a {@code user_denylist} entry with a {@code users-file} builds a new instance
 * while the old one serves: the new one reads the file as carefully as a check does, so an admin who
 * edits the entry while a job rewrites the file never lifts a ban.
 */
class UserDenylistRebuildTest {
    private static final Duration NEVER = Duration.ofHours(1);
    private static final String SPAMMER = "@spammer:example.com";

    @RegisterExtension
    final Rebuilds rebuilds = new Rebuilds();

    @TempDir
    Path directory;

    /** The instance of an entry reading {@code file} and answering {@code error}, built in place of {@code before}. */
    private UserDenylist build(Path file, String error, Optional<PolicyModule> before) {
        UserDenylist denylist = (UserDenylist) new UserDenylistModuleType().create(
                new UserDenylistConfig(List.of(), file, NEVER, List.of("user_may_invite"), "M_FORBIDDEN", error),
                rebuilds.context("denylist", before));
        return rebuilds.closedAfter(denylist);
    }

    @Test
    void aReloadThatRebuildsTheDenylistWhileItsFileIsEmptiedKeepsTheBans() throws IOException {
        Path file = Files.writeString(directory.resolve("denylist.txt"), SPAMMER + "\n");
        UserDenylist serving = build(file, "old refusal", Optional.empty());

        Files.writeString(file, ""); // truncated by a job about to write it again, or by accident

        assertThatThrownBy(() -> build(file, "new refusal", Optional.of(serving)))
                .isInstanceOfSatisfying(ModuleConfigurationException.class, refused -> assertThat(refused.field()).isEqualTo("users-file"))
                .hasMessageContaining(file + " is empty; write the file whole and move it into place");
        assertThat(serving.isListed(SPAMMER)).as("the reload is refused: the instance serving keeps its bans").isTrue();
    }

    @Test
    void aReloadThatRebuildsTheDenylistWhileItsFileIsWrittenInPlaceNeverServesHalfTheList() throws Exception {
        Path file = Files.writeString(directory.resolve("denylist.txt"), SPAMMER + "\n");
        UserDenylist serving = build(file, "old refusal", Optional.empty());
        String first = users(0, 500);
        String rest = users(500, 1000);

        CompletableFuture<Void> writing = InPlaceWriter.rewrite(file, first, Duration.ofMillis(50), rest);
        UserDenylist rebuilt = build(file, "new refusal", Optional.of(serving));
        writing.join();

        assertThat(rebuilt.isListed("@user999:example.com")).as("the list's second half").isTrue();
        assertThat(rebuilt.isListed("@user0:example.com")).isTrue();
    }

    @Test
    void aReloadThatRebuildsTheDenylistWhoseFileWasEmptyBeforeTakesItEmpty() throws IOException {
        Path file = Files.writeString(directory.resolve("denylist.txt"), "# nobody yet\n");
        UserDenylist serving = build(file, "old refusal", Optional.empty());
        Files.writeString(file, "");

        UserDenylist rebuilt = build(file, "new refusal", Optional.of(serving));

        assertThat(rebuilt.isListed(SPAMMER)).isFalse();
    }

    @Test
    void aRebuiltDenylistReadingAnotherFileReadsItAsAtStartup() throws IOException {
        Path file = Files.writeString(directory.resolve("denylist.txt"), SPAMMER + "\n");
        UserDenylist serving = build(file, "old refusal", Optional.empty());
        Path other = Files.writeString(directory.resolve("other.txt"), "# nobody yet\n");

        UserDenylist rebuilt = build(other, "new refusal", Optional.of(serving));

        assertThat(rebuilt.isListed(SPAMMER)).isFalse();
    }

    /** {@code @user<from>:example.com} up to {@code to}, excluded, one a line. */
    private static String users(int from, int to) {
        return IntStream.range(from, to).mapToObj(n -> "@user" + n + ":example.com\n").collect(Collectors.joining());
    }
}
