package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * A source's update that only adds rules (a new ban in a policy room) is compiled alone and layered
 * on the source's rules in force; any other update, and any update after one that could not be
 * compiled, compiles the source whole.
 */
class AddedRulesTest {
    private static final Duration SOON = Duration.ofSeconds(10);

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("could not be compiled");

    /** A source that hands over what the test says, when it says. */
    static final class Scripted implements PolicySource {
        volatile Listener listener;

        @Override
        public String name() {
            return "community";
        }

        @Override
        public void start(Listener listener) {
            this.listener = listener;
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

    private boolean banned(String user) {
        return list.index().decide(EntityKind.USER, user).isPresent();
    }

    @Test
    void addedRulesAreLayeredOnTheRulesInForceAndAnyOtherUpdateCompilesTheSourceWhole() {
        PolicyRule first = ban("@first:evil.example");
        PolicyRule second = ban("@second:evil.example");
        PolicyRule third = ban("@third:evil.example");
        source.listener.updated(source, List.of(first), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));

        source.listener.added(source, List.of(first, second), List.of(second), Map.of());
        await().atMost(SOON).until(() -> banned("@second:evil.example"));
        source.listener.added(source, List.of(first, second, third), List.of(third), Map.of());
        await().atMost(SOON).until(() -> banned("@third:evil.example"));

        assertThat(banned("@first:evil.example")).isTrue();
        assertThat(list.index().addedSince(1)).isEqualTo(2);
        assertThat(list.index().counts().get("community")).containsExactly(Map.entry(EntityKind.USER, Map.of(Recommendation.BAN, 3)));

        source.listener.updated(source, List.of(first, third), Map.of()); // the second withdrawn
        await().atMost(SOON).until(() -> !banned("@second:evil.example"));
        assertThat(banned("@first:evil.example")).isTrue();
        assertThat(banned("@third:evil.example")).isTrue();
        assertThat(list.index().addedSince(1)).as("compiled whole").isZero();
    }

    @Test
    void theAddedLayerIsFoldedInByAWholeCompileOnceTheSourceIsQuietNotWhileRulesKeepComing() throws InterruptedException {
        list.foldAfter(Duration.ofMillis(1_500));
        List<PolicyRule> rules = new ArrayList<>(List.of(ban("@first:evil.example")));
        source.listener.updated(source, List.copyOf(rules), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));

        for (int i = 0; i < 5; i++) { // one every 100 ms: each puts the fold off
            PolicyRule next = ban("@burst" + i + ":evil.example");
            rules.add(next);
            source.listener.added(source, List.copyOf(rules), List.of(next), Map.of());
            Thread.sleep(100);
        }
        assertThat(list.index().addedSince(1)).as("still layered while bans keep coming").isEqualTo(5);

        await().atMost(SOON).until(() -> list.index().addedSince(1) == 0);
        assertThat(rules).allSatisfy(rule -> assertThat(banned(rule.entity().value())).isTrue());
        assertThat(list.index().counts().get("community")).containsExactly(Map.entry(EntityKind.USER, Map.of(Recommendation.BAN, 6)));
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

        source.listener.added(source, List.of(first, lost, added), List.of(added), Map.of());

        await().atMost(SOON).until(() -> banned("@added:evil.example"));
        assertThat(banned("@lost:evil.example")).as("the update the failed compile left out").isTrue();
        assertThat(list.index().addedSince(1)).isZero();
    }

    @Test
    void rulesAddedBeyondTheLayersLimitCompileTheSourceWholeFoldingTheLayerIn() {
        List<PolicyRule> rules = new ArrayList<>();
        rules.add(ban("@first:evil.example"));
        source.listener.updated(source, List.copyOf(rules), Map.of());
        await().atMost(SOON).until(() -> banned("@first:evil.example"));
        List<PolicyRule> many = new ArrayList<>();
        for (int i = 0; i < PolicyList.MAX_ADDED; i++) {
            many.add(ban("@spammer" + i + ":evil.example"));
        }
        rules.addAll(many);
        source.listener.added(source, List.copyOf(rules), many, Map.of());
        await().atMost(SOON).until(() -> banned("@spammer" + (PolicyList.MAX_ADDED - 1) + ":evil.example"));
        assertThat(list.index().addedSince(1)).isEqualTo(PolicyList.MAX_ADDED);

        PolicyRule last = ban("@last:evil.example");
        rules.add(last);
        source.listener.added(source, List.copyOf(rules), List.of(last), Map.of());

        await().atMost(SOON).until(() -> banned("@last:evil.example"));
        assertThat(list.index().addedSince(1)).isZero();
        assertThat(banned("@spammer0:evil.example")).isTrue();
    }
}
