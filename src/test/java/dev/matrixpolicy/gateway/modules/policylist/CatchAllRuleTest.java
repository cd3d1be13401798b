package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A source's rule that names every ID of its kind applies, and is warned of once, and its withdrawal said. */
class CatchAllRuleTest {
    @TempDir
    Path directory;

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(PolicyList.class, Level.INFO);

    private List<String> said(Level level) {
        return lines.at(level);
    }

    @Test
    void aRuleNamingEveryUserIsWarnedOfOnceAppliesAndItsWithdrawalIsSaid() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @spammer:example.com\nban user * hijacked list\n");
        FileSource source = new FileSource("community", file, Duration.ofMillis(50), Clock.systemUTC());
        PolicyList list = OneSourceList.of("community", file.toString(), EnumSet.allOf(EntityKind.class), source);
        try {
            list.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> !said(Level.WARN).isEmpty());
            assertThat(list.index().decide(EntityKind.USER, "@anyone:example.org")).as("it applies").isPresent();

            Files.writeString(file, "ban user @spammer:example.com\nban user * hijacked list\nban user @other:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> list.index().decide(EntityKind.USER, "@other:example.com")
                    .filter(rule -> rule.entity().value().equals("@other:example.com")).isPresent());
            Files.writeString(file, "ban user @spammer:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> said(Level.INFO).stream().anyMatch(line -> line.contains("no longer has")));

            assertThat(said(Level.WARN)).singleElement().asString()
                    .contains("source 'community' has a rule that names every ID of its kind: ban of every user (\"*\")")
                    .contains("a ban refuses everyone");
            assertThat(said(Level.INFO)).as("beside the lines of the rules put in force").filteredOn(line -> line.contains("every ID"))
                    .singleElement().asString().contains("source 'community' no longer has");
            assertThat(list.index().decide(EntityKind.USER, "@anyone:example.org")).isEmpty();
        } finally {
            list.close();
        }
    }

    @Test
    void everyRoomIdOrEveryAliasIsNamedAsSuchAndAGlobWithAnyLiteralIsNot() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban room !*\nban room #*\nban user @*:*.example\nban server *.evil.example\nban user *spam*\n");
        PolicyList list = OneSourceList.of("community", file.toString(), EnumSet.allOf(EntityKind.class),
                new FileSource("community", file, Duration.ofMillis(50), Clock.systemUTC()));
        try {
            list.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> !said(Level.WARN).isEmpty());

            assertThat(said(Level.WARN)).singleElement().asString()
                    .contains("ban of every room ID (\"!*\"); ban of every room alias (\"#*\")")
                    .doesNotContain("*.example").doesNotContain("*spam*");
        } finally {
            list.close();
        }
    }
}
