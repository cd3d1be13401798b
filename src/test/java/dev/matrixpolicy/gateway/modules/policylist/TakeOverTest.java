package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An instance a reload builds serves, for each source configured as in the instance it replaces, what
 * that instance holds: at its build, and every update that instance reads after it, until its own
 * source has read. A ban that reaches the old instance while the new one's first read of a large list
 * is still under way is in force in the new one from the moment it is swapped in.
 *
 * <p>Each instance's source here is a file source of its own, described alike (same name, kind and
 * location): the new one's file does not exist yet, so that it has not read until the test writes it.
 */
class TakeOverTest {
    private static final Duration CHECKS = Duration.ofMillis(50);

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("does not exist: create it, or correct the path");

    @TempDir
    Path directory;

    /** Every instance a test built, each closed after it. */
    private final List<PolicyList> built = new ArrayList<>();

    @AfterEach
    void close() {
        built.forEach(PolicyList::close);
    }

    /** An instance, started, whose one source reads {@code file}. */
    private PolicyList list(String instance, Path file, Optional<PolicyList> predecessor) {
        return list(instance, file, "/etc/gateway/community.txt", predecessor);
    }

    /** An instance whose one source reads {@code file}, and says it reads {@code location}: what a reload compares. */
    private PolicyList list(String instance, Path file, String location, Optional<PolicyList> predecessor) {
        return list(instance, file, location, EnumSet.allOf(EntityKind.class), true, predecessor);
    }

    /** As above, the source keeping rules of {@code kinds} only, and takedowns only if {@code takedownBans}. */
    private PolicyList list(String instance, Path file, String location, Set<EntityKind> kinds, boolean takedownBans,
                            Optional<PolicyList> predecessor) {
        return list(instance, "community", file, location, kinds, takedownBans, new SimpleMeterRegistry(), predecessor);
    }

    private PolicyList list(String instance, String sourceName, Path file, String location, Set<EntityKind> kinds,
                            boolean takedownBans, MeterRegistry registry, Optional<PolicyList> predecessor) {
        FileSource source = new FileSource(sourceName, file, CHECKS, Clock.systemUTC());
        List<PolicyList.Slot> slots = List.of(
                new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.empty()),
                new PolicyList.Slot(sourceName, "file", location, kinds, Set.of(), Set.of(), Optional.of(source)));
        PolicyList list = new PolicyList(slots, List.of(), Set.<CallbackType<?, ?, ?>>of(),
                new PolicyList.Answers(instance, "example.com", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY, false,
                        takedownBans, Set.of()),
                new PolicyList.Freshness(Duration.ofMinutes(5), false), Instant.now(),
                new PolicyListMetrics(instance, registry, binder -> { }, Clock.systemUTC()), predecessor);
        built.add(list);
        list.start();
        return list;
    }

    private static boolean bans(PolicyList list, String user) {
        return list.index().decide(EntityKind.USER, user).isPresent();
    }

    private static void awaitBan(PolicyList list, String user) {
        await().atMost(Duration.ofSeconds(10)).until(() -> bans(list, user));
    }

    /** An instance whose source has read a ban of {@code @first:example.com} from {@code file}. */
    private PolicyList banningFirst(Path file) throws IOException {
        Files.writeString(file, "ban user @first:example.com\n");
        PolicyList list = list("bans", file, Optional.empty());
        awaitBan(list, "@first:example.com");
        return list;
    }

    @Test
    void aSourceTheReloadTookOutLeavesTheScrapeWhenItsInstanceClosesAndAKeptOnesSeriesStays() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        Path file = Files.writeString(directory.resolve("list.txt"), "ban user @first:example.com\n");
        PolicyList kept = list("bans", "community", file, "/etc/community.txt", EnumSet.allOf(EntityKind.class), true, registry,
                Optional.empty());
        PolicyList removed = list("bans", "retired", file, "/etc/retired.txt", EnumSet.allOf(EntityKind.class), true, registry,
                Optional.empty());
        awaitBan(kept, "@first:example.com");
        awaitBan(removed, "@first:example.com");
        assertThat(registry.find("policy.module.policy_list.update").tag("source", "retired").timer()).isNotNull();

        PolicyList successor = list("bans", "community", file, "/etc/community.txt", EnumSet.allOf(EntityKind.class), true, registry,
                Optional.of(removed));
        removed.close();

        assertThat(registry.find("policy.module.policy_list.update").tag("source", "retired").timer()).isNull();
        assertThat(registry.find("policy.module.policy_list.update").tag("source", "community").timer()).isNotNull();
        assertThat(successor.slots()).extracting(PolicyList.Slot::name).contains("community");
    }

    /** An instance with one file source per name, each reading {@code file}, all counting into {@code registry}. */
    private PolicyList reading(MeterRegistry registry, Path file, List<String> sourceNames, Optional<PolicyList> predecessor) {
        List<PolicyList.Slot> slots = new ArrayList<>();
        slots.add(new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(),
                Optional.empty()));
        for (String name : sourceNames) {
            slots.add(new PolicyList.Slot(name, "file", "/etc/" + name + ".txt", EnumSet.allOf(EntityKind.class), Set.of(),
                    Set.of(), Optional.of(new FileSource(name, file, CHECKS, Clock.systemUTC()))));
        }
        PolicyList list = new PolicyList(slots, List.of(), Set.<CallbackType<?, ?, ?>>of(),
                new PolicyList.Answers("bans", "example.com", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY,
                        false, true, Set.of()),
                new PolicyList.Freshness(Duration.ofMinutes(5), false), Instant.now(),
                new PolicyListMetrics("bans", registry, binder -> { }, Clock.systemUTC()), predecessor);
        built.add(list);
        list.start();
        return list;
    }

    private static boolean updateSeriesOf(MeterRegistry registry, String source) {
        return registry.find("policy.module.policy_list.update").tag("source", source).timer() != null;
    }

    private final MeterRegistry shared = new SimpleMeterRegistry();

    /** Three generations counting into {@link #shared}: sources {a, b}, then {a}, then {a, b}, the last read. */
    private List<PolicyList> aThenBDroppedThenBack() throws IOException {
        Path file = Files.writeString(directory.resolve("list.txt"), "ban user @first:example.com\n");
        PolicyList first = reading(shared, file, List.of("a", "b"), Optional.empty());
        awaitBan(first, "@first:example.com");
        PolicyList second = reading(shared, file, List.of("a"), Optional.of(first));
        PolicyList third = reading(shared, file, List.of("a", "b"), Optional.of(second));
        await().atMost(Duration.ofSeconds(10)).until(() -> third.status(2).lastSuccess().isPresent());
        return new ArrayList<>(List.of(first, second, third));
    }

    @Test
    void aSourceALaterReloadBroughtBackKeepsItsSeriesWhenTheFirstInstanceDrainsLast() throws Exception {
        List<PolicyList> generations = aThenBDroppedThenBack();

        generations.get(1).close();
        generations.get(0).close();

        assertThat(updateSeriesOf(shared, "b")).as("the third instance counts b's updates there").isTrue();
        assertThat(updateSeriesOf(shared, "a")).isTrue();
    }

    @Test
    void aDrainedInstanceWhoseSuccessorWasCollectedRetiresNothingForItCannotTellWhatIsStillServed() throws Exception {
        List<PolicyList> generations = aThenBDroppedThenBack();
        PolicyList second = generations.get(1);
        second.close();
        built.remove(second);
        generations.set(1, null);
        WeakReference<PolicyList> drained = new WeakReference<>(second);
        second = null; // nothing holds the closed middle instance any more, as after a real reload
        for (int i = 0; i < 50 && drained.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(drained.get()).as("collected").isNull();

        generations.get(0).close();

        assertThat(updateSeriesOf(shared, "b")).as("the third instance still counts b's updates there").isTrue();
    }

    @Test
    void aNewInstanceServesWhatItsPredecessorReadsUntilItsOwnSourceHasRead() throws Exception {
        Path oldFile = directory.resolve("old.txt");
        Path newFile = directory.resolve("new.txt");
        PolicyList before = banningFirst(oldFile);

        PolicyList after = list("bans", newFile, Optional.of(before));
        assertThat(bans(after, "@first:example.com")).as("taken over at its build").isTrue();
        assertThat(after.status(1).lastSuccess()).as("the predecessor's last good read, until its own").isPresent();

        Files.writeString(oldFile, "ban user @first:example.com\nban user @second:example.com\n");
        awaitBan(before, "@second:example.com");
        awaitBan(after, "@second:example.com");

        Files.writeString(newFile, "ban user @own:example.com\n");
        awaitBan(after, "@own:example.com");
        assertThat(bans(after, "@second:example.com")).as("its own read replaces what it took over").isFalse();

        Files.writeString(oldFile, "ban user @late:example.com\n");
        awaitBan(before, "@late:example.com");
        awaitHandedOn(before, after); // a hand-over that must not come
        assertThat(bans(after, "@late:example.com")).as("once its own source has read, the predecessor's reads are not its").isFalse();
        assertThat(bans(after, "@own:example.com")).isTrue();
    }

    @Test
    void theFailuresCountGoesOnAcrossAReloadThatKeepsTheSource() throws Exception {
        Path missing = directory.resolve("missing.txt");
        PolicyList before = list("bans", missing, Optional.empty());
        await().atMost(Duration.ofSeconds(10)).until(() -> before.status(1).failures() >= 2);
        long counted = before.status(1).failures();

        PolicyList after = list("bans", missing, Optional.of(before));

        assertThat(after.status(1).failures()).as("a counter that went back to 0 would read as a reset").isGreaterThanOrEqualTo(counted);
    }

    @Test
    void aChainOfReloadsHandsUpdatesOnToTheNewestInstance() throws Exception {
        Path oldFile = directory.resolve("old.txt");
        PolicyList first = banningFirst(oldFile);
        PolicyList second = list("bans", directory.resolve("second.txt"), Optional.of(first));
        PolicyList third = list("bans", directory.resolve("third.txt"), Optional.of(second));

        Files.writeString(oldFile, "ban user @second:example.com\n");

        awaitBan(third, "@second:example.com");
        assertThat(bans(third, "@first:example.com")).isFalse();
    }

    @Test
    void aSourceWhoseKindsOrTakedownChangedTakesThePredecessorsRulesThroughItsOwnFilter() throws Exception {
        Path oldFile = directory.resolve("old.txt");
        Files.writeString(oldFile, "ban user @first:example.com\ntakedown user @taken:example.com\nban server evil.example\n");
        PolicyList before = list("bans", oldFile, Optional.empty());
        awaitBan(before, "@taken:example.com");
        awaitBan(before, "@first:example.com");

        // takedown: ignore and kinds: [user], reloaded while the new source cannot read (its file is missing)
        PolicyList after = list("bans", directory.resolve("missing.txt"), "/etc/gateway/community.txt",
                EnumSet.of(EntityKind.USER), false, Optional.of(before));

        assertThat(bans(after, "@first:example.com")).as("a ban of a kind it keeps, taken over").isTrue();
        assertThat(bans(after, "@taken:example.com")).as("a takedown, which it ignores").isFalse();
        assertThat(after.index().decide(EntityKind.SERVER, "evil.example")).as("a kind it does not keep").isEmpty();

        Files.writeString(oldFile, "ban user @second:example.com\nban server evil.example\n");
        awaitBan(after, "@second:example.com");
        assertThat(after.index().decide(EntityKind.SERVER, "evil.example")).as("nor in later updates").isEmpty();
    }

    @Test
    void aSourceConfiguredOtherwiseIsNotHandedUpdates() throws Exception {
        Path oldFile = directory.resolve("old.txt");
        PolicyList before = banningFirst(oldFile);
        PolicyList after = list("bans", directory.resolve("new.txt"), "/etc/gateway/elsewhere.txt", Optional.of(before));

        Files.writeString(oldFile, "ban user @second:example.com\n");
        awaitBan(before, "@second:example.com");
        awaitHandedOn(before, after);

        assertThat(bans(after, "@first:example.com")).isFalse();
        assertThat(bans(after, "@second:example.com")).isFalse();
    }

    /**
     * Waits until what {@code from} compiled so far is compiled in {@code to} too, if it was handed on:
     * a hand-on is queued on the successor's compiler thread by the compile that served the rules.
     */
    private static void awaitHandedOn(PolicyList from, PolicyList to) {
        from.awaitCompiled();
        to.awaitCompiled();
    }
}
