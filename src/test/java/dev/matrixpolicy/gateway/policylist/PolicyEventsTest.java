package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Policy rule state events of every type the spec and older lists use, read into rules or cleared slots. */
class PolicyEventsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String YARRGH_HASH = Entity.hashOf("@yarrgh:example.com");

    private static Optional<PolicyEvents.Change> read(String event) {
        return PolicyEvents.read(JSON.readTree(event), "community");
    }

    private static PolicyRule rule(String event) {
        return ((PolicyEvents.Set) read(event).orElseThrow()).rule();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "m.policy.rule.user, m.ban, USER, BAN",
            "m.policy.rule.room, m.ban, ROOM, BAN",
            "m.policy.rule.server, m.ban, SERVER, BAN",
            "m.room.rule.user, m.ban, USER, BAN",
            "org.matrix.mjolnir.rule.server, org.matrix.mjolnir.ban, SERVER, BAN",
            "m.policy.rule.user, m.takedown, USER, TAKEDOWN",
            "m.policy.rule.user, org.matrix.msc4204.takedown, USER, TAKEDOWN",
            "m.policy.rule.user, fi.mau.meowlnir.unban, USER, ALLOW"})
    void everyRuleTypeAndRecommendationIsRead(String type, String recommendation, EntityKind kind, Recommendation expected) {
        PolicyRule rule = rule("""
                {"type": "%s", "state_key": "rule:x", "event_id": "$e1", "sender": "@mod:example.com",
                 "content": {"entity": "*:evil.example", "recommendation": "%s", "reason": "spam"}}""".formatted(type, recommendation));

        assertThat(rule.kind()).isEqualTo(kind);
        assertThat(rule.recommendation()).isEqualTo(expected);
        assertThat(rule.entity()).isEqualTo(new Entity(Entity.Form.GLOB, "*:evil.example"));
        assertThat(rule.reason()).isEqualTo("spam");
        assertThat(rule.origin()).isEqualTo(new PolicyRule.Origin("community", Optional.of("$e1"), Optional.of("@mod:example.com"), 0));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"42", "{\"text\": \"spam\"}", "[\"spam\"]", "null", "true"})
    void aReasonThatIsNoStringIsNoReasonAndTheRuleStillHolds(String reason) {
        PolicyRule rule = rule("""
                {"type": "m.policy.rule.server", "state_key": "k", "content": {"entity": "evil.example", "recommendation": "m.ban", "reason": %s}}"""
                .formatted(reason));

        assertThat(rule.entity()).isEqualTo(new Entity(Entity.Form.EXACT, "evil.example"));
        assertThat(rule.reason()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            hashes                     | %s=
            hashes                     | %s
            org.matrix.msc4205.hashes  | %s=""")
    void hashedEntitiesAreReadPaddedOrNotUnderTheStableOrUnstableName(String field, String hash) {
        PolicyRule rule = rule("""
                {"type": "m.policy.rule.user", "state_key": "h", "content": {"%s": {"sha256": "%s"}, "recommendation": "m.takedown"}}"""
                .formatted(field, hash.formatted(YARRGH_HASH)));

        assertThat(rule.entity()).isEqualTo(new Entity(Entity.Form.SHA256, YARRGH_HASH));
    }

    @Test
    void aHashInTheUrlSafeAlphabetIsTheSameHash() {
        String standard = java.util.stream.IntStream.range(0, 1000).mapToObj(n -> Entity.hashOf("@user" + n + ":example.com"))
                .filter(hash -> hash.contains("+") && hash.contains("/")).findFirst().orElseThrow();

        assertThat(Entity.sha256(standard.replace('+', '-').replace('/', '_'))).isEqualTo(Entity.sha256(standard));
    }

    @Test
    void anEntityOf64KiBHoldsNoRuleAsNoIdIsThatLong() {
        String huge = "@" + "a".repeat(64 * 1024) + ":evil.example";
        assertThat(read("{\"type\": \"m.policy.rule.user\", \"state_key\": \"k\", \"content\": {\"entity\": \"" + huge
                + "\", \"recommendation\": \"m.ban\"}}"))
                .contains(new PolicyEvents.Cleared(new PolicyEvents.Slot("m.policy.rule.user", "k"),
                        Optional.of(PolicyEvents.Skipped.ENTITY_OF_ANOTHER_KIND), Optional.empty()));
    }

    @Test
    void emptyContentClearsTheSlotAsAWithdrawnOrRedactedRule() {
        assertThat(read("{\"type\": \"m.policy.rule.user\", \"state_key\": \"rule:x\", \"content\": {}}"))
                .contains(new PolicyEvents.Cleared(new PolicyEvents.Slot("m.policy.rule.user", "rule:x"), Optional.empty(), Optional.empty()));
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            {"entity": "@a:b", "recommendation": "org.example.mute"} | UNKNOWN_RECOMMENDATION
            {"entity": "@a:b"}                                       | UNKNOWN_RECOMMENDATION
            {"recommendation": "m.ban"}                              | NO_ENTITY
            {"entity": "", "recommendation": "m.ban"}                | NO_ENTITY
            {"hashes": {"sha256": "not base64!"}, "recommendation": "m.ban"} | INVALID_HASH
            {"hashes": {"sha256": "AAAA"}, "recommendation": "m.ban"} | INVALID_HASH
            {"entity": "evil.example", "recommendation": "M.BAN"}    | UNKNOWN_RECOMMENDATION
            {"entity": "evil.example", "recommendation": "org.matrix.mjolnir.allow"} | UNKNOWN_RECOMMENDATION
            {"entity": "evil.example", "recommendation": ["m.ban"]}  | UNKNOWN_RECOMMENDATION
            {"entity": 42, "recommendation": "m.ban"}                | NO_ENTITY
            {"entity": {"id": "evil.example"}, "recommendation": "m.ban"} | NO_ENTITY""")
    void contentThatIsNoRuleClearsTheSlotAndSaysWhy(String content, PolicyEvents.Skipped why) {
        assertThat(read("{\"type\": \"m.policy.rule.server\", \"state_key\": \"k\", \"content\": " + content + "}"))
                .contains(new PolicyEvents.Cleared(new PolicyEvents.Slot("m.policy.rule.server", "k"), Optional.of(why), Optional.empty()));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            m.policy.rule.user                | evil.example
            m.policy.rule.user                | #spam:evil.example
            m.room.rule.room                  | @spammer:evil.example
            org.matrix.mjolnir.rule.server    | @spammer:evil.example
            m.policy.rule.server              | !room:evil.example""")
    void anEntityOfAnotherKindClearsTheSlotAndSaysSoRatherThanLoadARuleThatNeverMatches(String type, String entity) {
        assertThat(read("{\"type\": \"" + type + "\", \"state_key\": \"k\", \"event_id\": \"$e\", \"content\": "
                + "{\"entity\": \"" + entity + "\", \"recommendation\": \"m.ban\"}}"))
                .contains(new PolicyEvents.Cleared(new PolicyEvents.Slot(type, "k"),
                        Optional.of(PolicyEvents.Skipped.ENTITY_OF_ANOTHER_KIND), Optional.of("$e")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            {"type": "m.room.member", "state_key": "@a:b", "content": {"membership": "join"}}
            {"type": "m.policy.rule.media", "state_key": "k", "content": {"entity": "x", "recommendation": "m.ban"}}
            {"type": "m.policy.rule.user", "content": {"entity": "@a:b", "recommendation": "m.ban"}}
            ["not", "an", "event"]""")
    void otherEventsAreNoneOfItsBusiness(String event) {
        assertThat(read(event)).isEmpty();
    }
}
