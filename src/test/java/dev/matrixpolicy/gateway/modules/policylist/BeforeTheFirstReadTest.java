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
import java.util.AbstractCollection;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
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

    /**
     * readiness: fresh stops a gateway whose list failed to read or went stale, not one whose source is
     * reading for the first time. A source a reload adds starts its first read on every replica at once:
     * were that a reason, every replica would leave its Service until the read ended, which the docs say
     * never happens once the gateway has been ready. (Its first readiness waits for every first read,
     * by {@code starting}.) A first read that goes on past stale-after is stale.
     */
    @Test
    void aFreshListsFirstReadUnderWayIsNoReasonToBeUnreadyBeforeStaleAfter() {
        ChangedRulesTest.Scripted room = new ChangedRulesTest.Scripted();
        PolicyList list = OneSourceList.of("community", "room", "#bans:example.com", EnumSet.allOf(EntityKind.class), room);
        try {
            list.start();

            PolicyListView.Readiness reading = list.readiness(Instant.now());
            assertThat(reading.starting()).isTrue();
            assertThat(reading.ready()).isTrue();
            assertThat(reading.problems()).containsEntry("community", "first read under way");
            PolicyListView.Readiness tooLong = list.readiness(Instant.now().plus(Duration.ofMinutes(6)));
            assertThat(tooLong.ready()).as("past stale-after, 5 min").isFalse();
            assertThat(tooLong.problems().get("community")).startsWith("stale: first read under way for 6m");
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

    /**
     * A SIGTERM while the gateway starts: Spring's context close interrupts the starting thread when
     * it waits, here for a large list file's compile. The instance must not return without the file's
     * rules, or the gateway opens its ports and lets through what the file bans.
     */
    @Test
    void aFilesRulesAreInForceWhenTheInstanceHasStartedThoughItsStartWasInterrupted() throws InterruptedException {
        HeldRules rules = new HeldRules(new PolicyRule(EntityKind.USER, Entity.of(SPAMMER), Recommendation.BAN, "spam",
                new PolicyRule.Origin("local", Optional.empty(), Optional.empty(), 0)));
        PolicyList list = OneSourceList.of("local", "/etc/bans.txt", EnumSet.allOf(EntityKind.class),
                new ChangedRulesTest.Scripted(Optional.of(rules))); // hands its rules over in start, as a file does
        AtomicReference<SpamVerdict> onceStarted = new AtomicReference<>();
        AtomicBoolean interruptKept = new AtomicBoolean();
        Thread starting = Thread.ofPlatform().name("starting").start(() -> {
            list.start();
            onceStarted.set(mayJoin(list));
            interruptKept.set(Thread.currentThread().isInterrupted());
        });
        try {
            assertThat(rules.compiling.await(10, TimeUnit.SECONDS)).as("the compile began").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> starting.getState() == Thread.State.WAITING);

            starting.interrupt();
            // woken by the interruption: ended, or waiting again for the compile
            await().atMost(Duration.ofSeconds(10)).until(() -> starting.getState() == Thread.State.TERMINATED
                    || starting.getState() == Thread.State.WAITING && !starting.isInterrupted());
            rules.release.countDown();
            starting.join(Duration.ofSeconds(10));

            assertThat(onceStarted.get()).as("the file's ban, once the instance has started").isNotEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(interruptKept).as("the interruption, kept for the starting thread").isTrue();
        } finally {
            rules.release.countDown();
            list.close();
        }
    }

    /** Rules whose compile waits for {@link #release}, as a large list's compile takes its time. */
    private static final class HeldRules extends AbstractCollection<PolicyRule> {
        final CountDownLatch compiling = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final List<PolicyRule> rules;

        HeldRules(PolicyRule... rules) {
            this.rules = List.of(rules);
        }

        @Override
        public Iterator<PolicyRule> iterator() {
            compiling.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException closed) {
                Thread.currentThread().interrupt();
            }
            return rules.iterator();
        }

        @Override
        public int size() {
            return rules.size();
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
