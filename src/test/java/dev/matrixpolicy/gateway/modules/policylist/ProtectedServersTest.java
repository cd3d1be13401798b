package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoomAlias;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.RuleText;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 * A list that bans a whole homeserver, by a server rule or a glob, refuses none of the users, rooms
 * and aliases of a server the admin protects; a ban naming one of them exactly still does.
 */
class ProtectedServersTest {
    private static final String LIST = """
            ban server home.example
            ban user @*:home.example everyone there
            ban user *
            ban room !*:home.example
            ban room #*:Home.Example
            ban user @spammer:home.example named exactly
            ban room !spam-room:home.example named exactly
            ban user sha256:%s hashed
            ban server evil.example
            """.formatted(dev.matrixpolicy.gateway.policylist.Entity.hashOf("@hashed:home.example"));

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("names every ID of its kind");

    private final ChangedRulesTest.Scripted source = new ChangedRulesTest.Scripted();
    private PolicyList list;

    @BeforeEach
    void start() {
        start(List.of());
    }

    private void start(List<PolicyRule> allow) {
        start(allow, Set.of("home.example"));
    }

    private void start(List<PolicyRule> allow, Set<String> protectedServers) {
        if (list != null) {
            list.close();
        }
        List<PolicyList.Slot> slots = List.of(
                new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.empty()),
                new PolicyList.Slot("community", "file", "bans.txt", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.of(source)));
        list = new PolicyList(slots, allow, Set.<CallbackType<?, ?, ?>>copyOf(PolicyList.SUPPORTED),
                new PolicyList.Answers("bans", "home.example", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY, false, false,
                        protectedServers),
                new PolicyList.Freshness(Duration.ofMinutes(5), false), Instant.now(),
                new PolicyListMetrics("bans", new SimpleMeterRegistry(), binder -> { }, Clock.systemUTC()), Optional.empty());
        list.start();
        Collection<PolicyRule> rules = RuleText.parse(LIST, "community").rules();
        source.listener.updated(source, rules, Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> list.index().counts().containsKey("community")
                && !list.index().counts().get("community").isEmpty());
    }

    @AfterEach
    void stop() {
        list.close();
    }

    private boolean refusedToJoin(String user, String room) {
        return list.userMayJoinRoom(new UserMayJoinRoom.Args(user, room, false)) != SpamVerdict.NOT_SPAM;
    }

    @Test
    void usersAndRoomsOfAProtectedServerAreRefusedOnlyByBansNamingThemExactly() {
        assertThat(refusedToJoin("@alice:home.example", "!lobby:home.example")).as("server rule, globs").isFalse();
        assertThat(refusedToJoin("@alice:HOME.example:8448", "!lobby:home.example")).as("the server under another name").isFalse();
        assertThat(refusedToJoin("@spammer:home.example", "!lobby:home.example")).as("a user ban naming them").isTrue();
        assertThat(refusedToJoin("@hashed:home.example", "!lobby:home.example")).as("a hashed ban naming them").isTrue();
        assertThat(refusedToJoin("@alice:home.example", "!spam-room:home.example")).as("a room ban naming it").isTrue();
        assertThat(list.userMayCreateRoomAlias(new UserMayCreateRoomAlias.Args("@alice:home.example", "#lobby:home.example")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aProtectedServerWrittenWithATrailingDotProtectsTheServer() {
        start(List.of(), Set.of("home.example."));

        assertThat(refusedToJoin("@alice:home.example", "!lobby:home.example")).as("server rule, globs").isFalse();
        assertThat(refusedToJoin("@alice:home.example.", "!lobby:home.example")).as("the ID's name with the dot").isFalse();
    }

    @Test
    void everyoneElseIsRefusedByTheSameRulesAsBefore() {
        assertThat(refusedToJoin("@bob:friendly.example", "!lobby:home.example")).as("the glob '*' bans other servers' users").isTrue();
        assertThat(refusedToJoin("@bob:evil.example", "!lobby:home.example")).isTrue();
        assertThat(refusedToJoin("@alice:home.example", "!room:evil.example")).as("rooms elsewhere: '*' bans no room").isFalse();
    }

    @Test
    void theExplainEndpointShowsTheProtectedUsersDecisionAndEveryRuleThatNamesThem() {
        var explanation = list.explain("@alice:home.example");

        assertThat(explanation.decision()).isEmpty();
        assertThat(explanation.verdicts()).satisfiesExactly(user -> {
            assertThat(user.decision()).isEmpty();
            assertThat(user.matches()).extracting(rule -> rule.entity().value()).containsExactly("@*:home.example", "*");
        }, server -> {
            assertThat(server.id()).isEqualTo("home.example");
            assertThat(server.decision()).as("a protected user's server is asked for allows alone").isEmpty();
            assertThat(server.matches()).extracting(rule -> rule.entity().value()).containsExactly("home.example");
        });
    }

    @Test
    void theExplainEndpointShowsAProtectedServersBanAsAMatchThatDecidesNothing() {
        var explanation = list.explain("HOME.example:8448");

        assertThat(explanation.decision()).isEmpty();
        assertThat(explanation.verdicts()).extracting(PolicyListView.Verdict::id).containsExactly("HOME.example:8448", "HOME.example");
        assertThat(explanation.verdicts().get(1).matches()).extracting(rule -> rule.entity().value()).containsExactly("home.example");
        assertThat(list.explain("evil.example").decision()).as("an unprotected server").isPresent();
    }

    @Test
    void anAllowOfAProtectedServerStillSparesItsUsersFromBansNamingThem() {
        start(RuleText.parse("allow server home.example", "allow").rules().stream()
                .map(rule -> new PolicyRule(rule.kind(), rule.entity(), rule.recommendation(), rule.reason(),
                        new PolicyRule.Origin("allow", Optional.empty(), Optional.empty(), 0)))
                .toList());

        assertThat(refusedToJoin("@spammer:home.example", "!lobby:home.example")).as("a user ban naming them").isFalse();
        assertThat(refusedToJoin("@hashed:home.example", "!lobby:home.example")).as("a hashed ban naming them").isFalse();
        assertThat(refusedToJoin("@bob:evil.example", "!lobby:home.example")).as("other servers' users").isTrue();
        assertThat(list.explain("@spammer:home.example").decision()).hasValueSatisfying(
                rule -> assertThat(rule.entity().value()).isEqualTo("home.example"));
    }
}
