package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.policylist.RuleChanges;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A source's update that says what it changes (a new ban or a withdrawal in a policy room) is applied
 * alone, layered on the source's rules in force; an update handed over whole, one that takes out a
 * glob, and any update after one that could not be compiled, compile the source whole.
 */
class ChangedRulesTest {
    private static final Duration SOON = Duration.ofSeconds(10);

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("could not be compiled");

    /** A source that hands over what the test says, when it says. */
    static final class Scripted implements PolicySource {
        volatile Listener listener;
        /** What {@link #start} hands over, as a file's first read does; nothing, as a room's start, when empty. */
        private final Optional<Collection<PolicyRule>> readInStart;

        Scripted() {
            this(Optional.empty());
        }

        Scripted(Optional<Collection<PolicyRule>> readInStart) {
            this.readInStart = readInStart;
        }

        @Override
        public String name() {
            return "community";
        }

        @Override
        public void start(Listener listener) {
            this.listener = listener;
            readInStart.ifPresent(rules -> listener.updated(this, rules, Map.of()));
        }

        @Override
        public Status status() {
            return Status.STARTING;
        }

        @Override
        public void redeliver() {
        }

        @Override
        public void close() {
        }
    }

    private final Scripted source = new Scripted();
    private final CompileFailureTest.Kinds kinds = new CompileFailureTest.Kinds();
    private PolicyList list;

    @BeforeEach
    void start() {
        kinds.outOfMemory.set(false);
        List<PolicyList.Slot> slots = List.of(
                new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.empty()),
                new PolicyList.Slot("community", "room", "#bans:example.com", kinds, Set.of(), Set.of(), Optional.of(source)));
        list = new PolicyList(slots, List.of(), Set.<CallbackType<?, ?, ?>>of(),
                new PolicyList.Answers("bans", "example.com", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY, false, false, Set.of()),
                new PolicyList.Freshness(Duration.ofMinutes(5), false), Instant.now(),
                new PolicyListMetrics("bans", new SimpleMeterRegistry(), binder -> { }, Clock.systemUTC()), Optional.empty());
        list.start();
    }

    @AfterEach
    void stop() {
        list.close();
    }

    private static PolicyRule ban(String user) {
        return new PolicyRule(EntityKind.USER, Entity.of(user), Recommendation.BAN, "spam",
                new PolicyRule.Origin("community", Optional.of("$" + user), Optional.empty(), 0));
    }

    private static PolicyRule ban(String user, String eventId) {
        return new PolicyRule(EntityKind.USER, Entity.of(user), Recommendation.BAN, "spam",
                new PolicyRule.Origin("community", Optional.of(eventId), Optional.empty(), 0));
    }

    /** An MSC4205 hashed entity naming {@code id}. */
    private static Entity hashed(String id) {
        return Entity.sha256(Entity.hashOf(id));
    }

    private boolean banned(String user) {
        return list.index().decide(EntityKind.USER, user).isPresent();
    }

    /** Hands over {@code rules}, saying that {@code added} came and {@code removed} went since the last update. */
    private void changed(List<PolicyRule> rules, List<PolicyRule> added, List<PolicyRule> removed) {
        source.listener.changed(source, rules, new RuleChanges(added, removed), Map.of());
    }

    private void added(List<PolicyRule> rules, List<PolicyRule> added) {
        changed(rules, added, List.of());
    }

    @Test
    void addedRulesAreLayeredOnTheRulesInForceAndAnUpdateHandedOverWholeCompilesTheSourceWhole() {
        PolicyRule first = ban("@first:evil.example");
        PolicyRule second = ban("@second:evil.example");
        PolicyRule third = ban("@third:evil.example");
        source.listener.updated(source, List.of(first), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));

        added(List.of(first, second), List.of(second));
        await().atMost(SOON).until(() -> banned("@second:evil.example"));
        added(List.of(first, second, third), List.of(third));
        await().atMost(SOON).until(() -> banned("@third:evil.example"));

        assertThat(banned("@first:evil.example")).isTrue();
        assertThat(list.index().changedSince(1)).isEqualTo(2);
        assertThat(list.index().counts().get("community")).containsExactly(Map.entry(EntityKind.USER, Map.of(Recommendation.BAN, 3)));

        source.listener.updated(source, List.of(first, third), Map.of()); // the second withdrawn, not said so
        await().atMost(SOON).until(() -> !banned("@second:evil.example"));
        assertThat(banned("@first:evil.example")).isTrue();
        assertThat(banned("@third:evil.example")).isTrue();
        assertThat(list.index().changedSince(1)).as("compiled whole").isZero();
    }

    @Test
    void withdrawalsOfRulesCompiledWholeOrAddedSinceAreLayeredToo() {
        PolicyRule first = ban("@first:evil.example");
        PolicyRule second = ban("@second:evil.example");
        PolicyRule added = ban("@added:evil.example");
        source.listener.updated(source, List.of(first, second), Map.of());
        await().atMost(SOON).until(() -> banned("@second:evil.example"));
        added(List.of(first, second, added), List.of(added));
        await().atMost(SOON).until(() -> banned("@added:evil.example"));

        changed(List.of(second, added), List.of(), List.of(first));
        await().atMost(SOON).until(() -> !banned("@first:evil.example"));
        assertThat(list.index().changedSince(1)).as("one added, one withdrawn").isEqualTo(2);
        changed(List.of(second), List.of(), List.of(added));
        await().atMost(SOON).until(() -> !banned("@added:evil.example"));

        assertThat(banned("@second:evil.example")).isTrue();
        assertThat(list.index().changedSince(1)).isEqualTo(1);
        assertThat(list.index().counts().get("community")).containsExactly(Map.entry(EntityKind.USER, Map.of(Recommendation.BAN, 1)));
        assertThat(list.index().matching(EntityKind.USER, "@first:evil.example")).isEmpty();
        assertThat(list.index().rules(1)).containsExactly(second);
    }

    @Test
    void aReplacementIsLayeredAsTheOldRuleWithdrawnAndTheNewOneAdded() {
        PolicyRule ban = ban("@spammer:evil.example", "$ban");
        PolicyRule allow = new PolicyRule(EntityKind.USER, Entity.of("@spammer:evil.example"), Recommendation.ALLOW, "appealed",
                new PolicyRule.Origin("community", Optional.of("$appeal"), Optional.empty(), 0));
        source.listener.updated(source, List.of(ban), Map.of());
        await().atMost(SOON).until(() -> banned("@spammer:evil.example"));

        changed(List.of(allow), List.of(allow), List.of(ban));

        await().atMost(SOON).until(() -> list.index().decide(EntityKind.USER, "@spammer:evil.example")
                .filter(rule -> rule.recommendation() == Recommendation.ALLOW).isPresent());
        assertThat(list.index().changedSince(1)).isEqualTo(2);
        assertThat(list.index().matching(EntityKind.USER, "@spammer:evil.example")).containsExactly(allow);
    }

    @Test
    void withdrawingOneOfTwoRulesThatNameTheSameUserLeavesTheUserBannedByTheOther() {
        PolicyRule first = ban("@spammer:evil.example", "$first");
        PolicyRule second = ban("@spammer:evil.example", "$second");
        PolicyRule hashed = new PolicyRule(EntityKind.USER, hashed("@hashed:evil.example"), Recommendation.BAN, "spam",
                new PolicyRule.Origin("community", Optional.of("$hashed"), Optional.empty(), 0));
        PolicyRule hashedAgain = new PolicyRule(EntityKind.USER, hashed("@hashed:evil.example"), Recommendation.BAN, "again",
                new PolicyRule.Origin("community", Optional.of("$hashed-again"), Optional.empty(), 0));
        source.listener.updated(source, List.of(first, second, hashed, hashedAgain), Map.of());
        await().atMost(SOON).until(() -> banned("@spammer:evil.example"));
        assertThat(list.index().decide(EntityKind.USER, "@spammer:evil.example")).contains(first);

        changed(List.of(second, hashedAgain), List.of(), List.of(first, hashed));

        await().atMost(SOON).until(() -> list.index().decide(EntityKind.USER, "@spammer:evil.example").equals(Optional.of(second)));
        assertThat(list.index().decide(EntityKind.USER, "@hashed:evil.example")).contains(hashedAgain);
        assertThat(list.index().changedSince(1)).as("the second rules moved above the withdrawn ones").isPositive();
        assertThat(list.index().counts().get("community")).containsExactly(Map.entry(EntityKind.USER, Map.of(Recommendation.BAN, 2)));
        assertThat(list.index().rules(1)).containsExactlyInAnyOrder(second, hashedAgain);

        changed(List.of(hashedAgain), List.of(), List.of(second));
        await().atMost(SOON).until(() -> !banned("@spammer:evil.example"));
        assertThat(list.index().rules(1)).containsExactly(hashedAgain);
    }

    @Test
    void aWithdrawnGlobCompilesTheSourceWhole() {
        PolicyRule glob = new PolicyRule(EntityKind.USER, Entity.of("@*:evil.example"), Recommendation.BAN, "spam",
                new PolicyRule.Origin("community", Optional.of("$glob"), Optional.empty(), 0));
        PolicyRule first = ban("@first:evil.example");
        PolicyRule added = ban("@added:other.example");
        source.listener.updated(source, List.of(glob, first), Map.of());
        await().atMost(SOON).until(() -> banned("@anyone:evil.example"));
        added(List.of(glob, first, added), List.of(added));
        await().atMost(SOON).until(() -> banned("@added:other.example"));

        changed(List.of(first, added), List.of(), List.of(glob));

        await().atMost(SOON).until(() -> !banned("@anyone:evil.example"));
        assertThat(banned("@first:evil.example")).isTrue();
        assertThat(banned("@added:other.example")).isTrue();
        assertThat(list.index().changedSince(1)).as("compiled whole").isZero();
    }

    @Test
    void theAddedLayerIsFoldedInByAWholeCompileOnceTheSourceIsQuietNotWhileRulesKeepComing() throws InterruptedException {
        Duration quiet = Duration.ofMillis(600);
        list.foldAfter(quiet);
        List<PolicyRule> rules = new ArrayList<>(List.of(ban("@first:evil.example")));
        source.listener.updated(source, List.copyOf(rules), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));

        // one every 100 ms for twice the quiet time: each puts the fold off
        long longestGap = 0;
        long last = System.nanoTime();
        for (int i = 0; i < 12; i++) {
            PolicyRule next = ban("@burst" + i + ":evil.example");
            rules.add(next);
            added(List.copyOf(rules), List.of(next));
            longestGap = Math.max(longestGap, System.nanoTime() - last);
            last = System.nanoTime();
            Thread.sleep(100);
        }
        // the compiler's thread layers the last ban a moment after it is handed over; a fold would empty the layer
        list.awaitCompiled();
        int layered = list.index().changedSince(1);
        // the last ban to the look counts too: held up for the quiet time, it lets the fold in as well
        longestGap = Math.max(longestGap, System.nanoTime() - last);
        assumeTrue(longestGap < quiet.toNanos(), "the machine held the burst up for the quiet time, which lets a fold in");
        assertThat(layered).as("still layered while bans keep coming").isEqualTo(12);

        await().atMost(SOON).until(() -> list.index().changedSince(1) == 0);
        assertThat(rules).allSatisfy(rule -> assertThat(banned(rule.entity().value())).isTrue());
        assertThat(list.index().counts().get("community")).containsExactly(Map.entry(EntityKind.USER, Map.of(Recommendation.BAN, 13)));
    }

    @Test
    void rulesAddedAfterAnUpdateThatCouldNotBeCompiledCompileTheSourceWholeWithThatUpdatesRules() {
        PolicyRule first = ban("@first:evil.example");
        PolicyRule lost = ban("@lost:evil.example");
        PolicyRule added = ban("@added:evil.example");
        source.listener.updated(source, List.of(first), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));
        kinds.outOfMemory.set(true);
        source.listener.updated(source, List.of(first, lost), Map.of());
        await().atMost(SOON).until(() -> list.status(1).lastError().isPresent());
        kinds.outOfMemory.set(false);

        added(List.of(first, lost, added), List.of(added));

        await().atMost(SOON).until(() -> banned("@added:evil.example"));
        assertThat(banned("@lost:evil.example")).as("the update the failed compile left out").isTrue();
        assertThat(list.index().changedSince(1)).isZero();
    }

    @Test
    void rulesAddedBeyondTheLayersLimitCompileTheSourceWholeFoldingTheLayerIn() {
        List<PolicyRule> rules = new ArrayList<>();
        rules.add(ban("@first:evil.example"));
        source.listener.updated(source, List.copyOf(rules), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));
        List<PolicyRule> many = new ArrayList<>();
        for (int i = 0; i < Compiler.MAX_CHANGED; i++) {
            many.add(ban("@spammer" + i + ":evil.example"));
        }
        rules.addAll(many);
        added(List.copyOf(rules), many);
        await().atMost(SOON).until(() -> banned("@spammer" + (Compiler.MAX_CHANGED - 1) + ":evil.example"));
        assertThat(list.index().changedSince(1)).isEqualTo(Compiler.MAX_CHANGED);

        PolicyRule last = ban("@last:evil.example");
        rules.add(last);
        added(List.copyOf(rules), List.of(last));

        await().atMost(SOON).until(() -> banned("@last:evil.example"));
        assertThat(list.index().changedSince(1)).isZero();
        assertThat(banned("@spammer0:evil.example")).isTrue();
    }
}
