package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.policylist.RuleChanges;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    /**
     * A policy room's update is layered on the rules in force, and its check reads only what it added:
     * a catch-all it adds is warned of all the same, a ban added after it warns of nothing again, and
     * its withdrawal, layered too, is said.
     */
    @Test
    void aCatchAllGlobALayeredUpdateAddsIsWarnedOfOnceAndItsLayeredWithdrawalIsSaid() {
        ChangedRulesTest.Scripted room = new ChangedRulesTest.Scripted();
        PolicyList list = OneSourceList.of("community", "room", "#bans:example.com", EnumSet.allOf(EntityKind.class), room);
        PolicyRule spammer = ban("@spammer:example.com");
        PolicyRule everyone = ban("@*:*");
        PolicyRule other = ban("@other:example.com");
        try {
            list.start();
            room.listener.updated(room, List.of(spammer), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> banned(list, "@spammer:example.com"));

            room.listener.changed(room, List.of(spammer, everyone), new RuleChanges(List.of(everyone), List.of()), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> !said(Level.WARN).isEmpty());
            assertThat(list.index().changedSince(1)).as("layered").isEqualTo(1);
            room.listener.changed(room, List.of(spammer, everyone, other), new RuleChanges(List.of(other), List.of()), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> list.index().decide(EntityKind.USER, "@other:example.com")
                    .filter(rule -> rule.entity().value().equals("@other:example.com")).isPresent());
            room.listener.changed(room, List.of(spammer, other), new RuleChanges(List.of(), List.of(everyone)), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> said(Level.INFO).stream().anyMatch(line -> line.contains("no longer has")));

            assertThat(list.index().changedSince(1)).as("still layered: the glob was the added layer's").isEqualTo(1);
            assertThat(said(Level.WARN)).singleElement().asString()
                    .contains("source 'community' has a rule that names every ID of its kind: ban of every user (\"@*:*\", event \"$@*:*\")");
            assertThat(said(Level.INFO)).filteredOn(line -> line.contains("every ID")).singleElement().asString()
                    .contains("source 'community' no longer has");
            assertThat(banned(list, "@anyone:example.org")).isFalse();
        } finally {
            list.close();
        }
    }

    /**
     * A fold compiles the source whole from its rules in the order the source has them, which may put
     * another of its catch-all rules first: the rules that name everyone are the same, so the next
     * update warns of nothing again.
     */
    @Test
    void aFoldThatCompilesTheSameCatchAllRulesInAnotherOrderWarnsOfNothingAgain() {
        ChangedRulesTest.Scripted room = new ChangedRulesTest.Scripted();
        PolicyList list = OneSourceList.of("community", "room", "#bans:example.com", EnumSet.allOf(EntityKind.class), room);
        list.foldAfter(Duration.ofMillis(50));
        PolicyRule everyone = ban("*");
        PolicyRule everyUser = ban("@*:*");
        PolicyRule other = ban("@other:example.com");
        PolicyRule another = ban("@another:example.com");
        try {
            list.start();
            room.listener.updated(room, List.of(everyone), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> !said(Level.WARN).isEmpty());
            room.listener.changed(room, List.of(everyUser, everyone), new RuleChanges(List.of(everyUser), List.of()), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> list.index().counts().get("community")
                    .equals(Map.of(EntityKind.USER, Map.of(Recommendation.BAN, 2))) && list.index().changedSince(1) == 0); // folded

            room.listener.changed(room, List.of(everyUser, everyone, other), new RuleChanges(List.of(other), List.of()), Map.of());
            await().atMost(Duration.ofSeconds(10)).until(() -> bannedByName(list, "@other:example.com"));
            room.listener.changed(room, List.of(everyUser, everyone, other, another), new RuleChanges(List.of(another), List.of()), Map.of());
            // the compiler takes updates one at a time: the first one's check is done once the next is in force
            await().atMost(Duration.ofSeconds(10)).until(() -> bannedByName(list, "@another:example.com"));

            assertThat(said(Level.WARN)).as("the same rules name everyone after the fold").singleElement().asString()
                    .contains("ban of every user (\"*\"");
        } finally {
            list.close();
        }
    }

    private static PolicyRule ban(String user) {
        return new PolicyRule(EntityKind.USER, Entity.of(user), Recommendation.BAN, "spam",
                new PolicyRule.Origin("community", Optional.of("$" + user), Optional.empty(), 0));
    }

    /** Whether the rule that decides the user names them, not a glob. */
    private static boolean bannedByName(PolicyList list, String user) {
        return list.index().decide(EntityKind.USER, user).filter(rule -> rule.entity().value().equals(user)).isPresent();
    }

    private static boolean banned(PolicyList list, String user) {
        return list.index().decide(EntityKind.USER, user).isPresent();
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
