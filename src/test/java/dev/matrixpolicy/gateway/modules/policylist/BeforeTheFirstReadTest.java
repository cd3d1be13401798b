package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the callbacks answer while a policy room has not been read yet: the source holds no rule, so it
 * refuses no one. A file has no such time: its first read is made, and its rules put in force, as the
 * instance starts.
 */
class BeforeTheFirstReadTest {
    private static final String SPAMMER = "@spammer:evil.example";

    @RegisterExtension
    final LoggedLines failedReads = LoggedLines.of("dev.matrixpolicy.gateway.policylist.PollingSource", Level.WARN);

    @TempDir
    Path dir;

    @Test
    void aSourceThatHasNotReadYetRefusesNoOneUntilItsFirstRulesArrive() {
        ChangedRulesTest.Scripted room = new ChangedRulesTest.Scripted();
        PolicyList list = OneSourceList.of("community", "room", "#bans:example.com", EnumSet.allOf(EntityKind.class), room);
        try {
            list.start();
            assertThat(mayJoin(list)).as("before the first read").isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(list.sources()).filteredOn(source -> source.name().equals("community")).singleElement()
                    .satisfies(source -> assertThat(source.status().lastSuccess()).isEmpty());

            room.listener.updated(room, List.of(new PolicyRule(EntityKind.USER, Entity.of(SPAMMER), Recommendation.BAN, "spam",
                    new PolicyRule.Origin("community", Optional.of("$ban"), Optional.empty(), 0))), Map.of());

            await().atMost(Duration.ofSeconds(10)).until(() -> mayJoin(list) != SpamVerdict.NOT_SPAM);
        } finally {
            list.close();
        }
    }

    @Test
    void aFilesRulesAreInForceWhenTheInstanceHasStarted() throws IOException {
        Path file = Files.writeString(dir.resolve("bans.txt"), "ban user " + SPAMMER + " spam\n");
        PolicyList list = OneSourceList.of("local", file.toString(), EnumSet.allOf(EntityKind.class),
                new FileSource("local", file, Duration.ofHours(1), Clock.systemUTC()));
        try {
            list.start();

            assertThat(mayJoin(list)).isNotEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(list.readiness(Instant.now()).starting()).isFalse();
        } finally {
            list.close();
        }
    }

    @Test
    void aFileThatCannotBeReadHasEndedItsFirstReadWhenTheInstanceHasStarted() {
        Path missing = dir.resolve("missing.txt");
        PolicyList list = OneSourceList.of("local", missing.toString(), EnumSet.allOf(EntityKind.class),
                new FileSource("local", missing, Duration.ofHours(1), Clock.systemUTC()));
        try {
            list.start();

            PolicyListView.Readiness readiness = list.readiness(Instant.now());
            assertThat(readiness.starting()).isFalse();
            assertThat(readiness.problems()).containsKey("local");
            assertThat(failedReads.at(Level.WARN)).singleElement().asString().contains("does not exist");
        } finally {
            list.close();
        }
    }

    private static SpamVerdict mayJoin(PolicyList list) {
        return list.userMayJoinRoom(new UserMayJoinRoom.Args(SPAMMER, "!room:example.com", false));
    }
}
