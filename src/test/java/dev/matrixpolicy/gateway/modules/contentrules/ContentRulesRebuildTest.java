package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.support.InPlaceWriter;
import dev.matrixpolicy.gateway.support.Rebuilds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload that changes a {@code content_rules} entry with a media {@code hashes-file} builds a new
 * instance while the old one serves: the new one reads the file as carefully as a check does, so an
 * admin who edits the entry while a job rewrites the file never lifts a media ban.
 */
class ContentRulesRebuildTest {
    private static final String LISTED = "a".repeat(64);

    @RegisterExtension
    final Rebuilds rebuilds = new Rebuilds();

    @TempDir
    Path directory;

    /** The instance of an entry whose one rule refuses the hashes of {@code file} with {@code error}, built in place of {@code before}. */
    private ContentRules build(Path file, String error, Optional<PolicyModule> before) {
        ContentRulesConfig.Rule rule = new ContentRulesConfig.Rule("media", "M_FORBIDDEN", error, null, null, null, null, null,
                null, null, null, new ContentRulesConfig.Media(file, null, Duration.ofHours(1), Duration.ofSeconds(1), List.of()));
        ContentRules rules = (ContentRules) new ContentRulesModuleType(new MemoryState()).create(
                new ContentRulesConfig(List.of(rule), List.of("check_media_file_for_spam"), 16384, null),
                rebuilds.context("content", before));
        return rebuilds.closedAfter(rules);
    }

    private static boolean refuses(ContentRules rules, String sha256) {
        return rules.mediaHashes().getFirst().contains(sha256);
    }

    @Test
    void aReloadThatRebuildsTheRulesWhileTheirHashesFileIsEmptiedKeepsTheMediaBans() throws IOException {
        Path file = Files.writeString(directory.resolve("hashes.txt"), LISTED + "\n");
        ContentRules serving = build(file, "old refusal", Optional.empty());

        Files.writeString(file, ""); // truncated by a job about to write it again, or by accident

        assertThatThrownBy(() -> build(file, "new refusal", Optional.of(serving)))
                .isInstanceOfSatisfying(ModuleConfigurationException.class, refused -> assertThat(refused.field()).isEqualTo("rules[0].media.hashes-file"))
                .hasMessageContaining(file + " is empty; write the file whole and move it into place");
        assertThat(refuses(serving, LISTED)).as("the reload is refused: the instance serving keeps its bans").isTrue();
    }

    @Test
    void aReloadThatRebuildsTheRulesWhileTheirHashesFileIsWrittenInPlaceNeverServesHalfTheList() throws Exception {
        Path file = Files.writeString(directory.resolve("hashes.txt"), LISTED + "\n");
        ContentRules serving = build(file, "old refusal", Optional.empty());

        CompletableFuture<Void> writing = InPlaceWriter.rewrite(file, hashes(0, 500), Duration.ofMillis(50), hashes(500, 1000));
        ContentRules rebuilt = build(file, "new refusal", Optional.of(serving));
        writing.join();

        assertThat(rebuilt.mediaHashes().getFirst().size()).as("both halves").isEqualTo(1000);
    }

    /** The hashes of the numbers {@code from} up to {@code to}, excluded, one a line. */
    private static String hashes(int from, int to) {
        return IntStream.range(from, to).mapToObj(n -> HexFormat.of().formatHex(new byte[28]) + "%08x\n".formatted(n))
                .collect(Collectors.joining());
    }
}
