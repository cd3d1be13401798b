package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * One state key's rule events under the spec's type and the older ones read as one rule, the newest
 * type's event deciding even when emptied: how Meowlnir, Mjolnir and Draupnir read a policy room.
 */
class RoomRulesTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static String ban(String type, String eventId, String entity) {
        return """
                {"type": "%s", "state_key": "rule:1", "event_id": "%s", "sender": "@mod:example.com",
                 "content": {"entity": "%s", "recommendation": "m.ban", "reason": "spam"}}""".formatted(type, eventId, entity);
    }

    private static String emptied(String type, String eventId) {
        return """
                {"type": "%s", "state_key": "rule:1", "event_id": "%s", "content": {}}""".formatted(type, eventId);
    }

    private static RoomRules room(String... events) {
        RoomRules room = new RoomRules("community", Long.MAX_VALUE);
        for (String event : events) {
            room.apply(JSON.readTree(event));
        }
        return room;
    }

    private static List<String> entities(RoomRules room) {
        return room.rules().stream().map(rule -> rule.entity().value()).toList();
    }

    @Test
    void aRuleSentUnderAnOlderTypeAloneApplies() {
        assertThat(entities(room(ban("m.room.rule.user", "$legacy", "@spammer:evil.example")))).containsExactly("@spammer:evil.example");
        assertThat(entities(room(ban("org.matrix.mjolnir.rule.user", "$old", "@spammer:evil.example"))))
                .containsExactly("@spammer:evil.example");
    }

    @Test
    void anEmptiedEventOfTheSpecsTypeWithdrawsTheOlderTypesRuleOfItsStateKeyInEitherOrder() {
        RoomRules legacyFirst = room(ban("org.matrix.mjolnir.rule.user", "$old", "@spammer:evil.example"),
                emptied("m.policy.rule.user", "$removed"));
        RoomRules emptiedFirst = room(emptied("m.policy.rule.user", "$removed"),
                ban("org.matrix.mjolnir.rule.user", "$old", "@spammer:evil.example"));

        assertThat(entities(legacyFirst)).isEmpty();
        assertThat(entities(emptiedFirst)).isEmpty();
        assertThat(legacyFirst.ruleCount()).isZero();
        assertThat(legacyFirst.sameAs(emptiedFirst)).isTrue();
    }

    @Test
    void theNewestTypesRuleOfAStateKeyReplacesTheOlderOnesWhateverWasSentLast() {
        RoomRules room = room(ban("m.policy.rule.user", "$stable", "@b:evil.example"),
                ban("m.room.rule.user", "$legacy", "@a:evil.example"),
                ban("org.matrix.mjolnir.rule.user", "$old", "@c:evil.example"));

        assertThat(entities(room)).containsExactly("@b:evil.example");
        assertThat(room.ruleCount()).isEqualTo(1);
    }

    @Test
    void anOlderTypesEventUnderANewerOnesRuleChangesNothingAndAddsNothing() {
        RoomRules room = room(ban("m.policy.rule.user", "$stable", "@b:evil.example"));
        room.takeChanges();

        boolean changed = room.apply(JSON.readTree(ban("m.room.rule.user", "$legacy", "@a:evil.example")));

        assertThat(changed).isFalse();
        assertThat(room.takeChanges()).hasValueSatisfying(changes -> assertThat(changes.size()).isZero());
    }

    @Test
    void withdrawingTheNewerRuleLeavesNoneAndTakesOutOnlyIt() {
        RoomRules room = room(ban("m.room.rule.user", "$legacy", "@a:evil.example"),
                ban("m.policy.rule.user", "$stable", "@b:evil.example"));
        room.takeChanges();

        boolean changed = room.apply(JSON.readTree(emptied("m.policy.rule.user", "$removed")));

        assertThat(changed).isTrue();
        assertThat(entities(room)).isEmpty();
        assertThat(room.takeChanges()).hasValueSatisfying(changes -> {
            assertThat(changes.added()).isEmpty();
            assertThat(changes.removed()).extracting(rule -> rule.entity().value()).containsExactly("@b:evil.example");
        });
    }

    @Test
    void aRedactedEventOfTheSpecsTypeStillOverridesTheOlderOnes() {
        RoomRules room = room(ban("m.room.rule.user", "$legacy", "@a:evil.example"),
                ban("m.policy.rule.user", "$stable", "@b:evil.example"));

        assertThat(room.redact(Set.of("$stable"))).isTrue();
        assertThat(entities(room)).isEmpty();
        assertThat(room.redact(Set.of("$stable"))).isFalse();
    }

    @Test
    void anUnusableNewerEventHidesTheOlderRuleAndIsCountedAlone() {
        RoomRules room = room(ban("m.room.rule.user", "$legacy", "@a:evil.example"),
                """
                {"type": "m.policy.rule.user", "state_key": "rule:1", "event_id": "$mute",
                 "content": {"entity": "@a:evil.example", "recommendation": "org.example.mute"}}""");

        assertThat(entities(room)).isEmpty();
        assertThat(room.skipped()).containsExactly(Map.entry(PolicyEvents.Skipped.UNKNOWN_RECOMMENDATION, 1));
    }

    @Test
    void aListFileReadsTheSameStateKeysAsThePolicyRoomDoes() {
        RuleText.Parsed parsed = RuleText.parse("[" + String.join(", ",
                ban("m.room.rule.user", "$legacy", "@a:evil.example"),
                emptied("m.policy.rule.user", "$removed"),
                ban("org.matrix.mjolnir.rule.server", "$server", "evil.example")) + "]", "exported");

        assertThat(parsed.rules()).extracting(rule -> rule.entity().value()).containsExactly("evil.example");
    }

    @Test
    void newSlotsPastTheBudgetAreRefusedWhileTheRulesHeldStayAndWithdrawalsStillApply() {
        RoomRules room = new RoomRules("community", 1_000);
        int sent = 0;
        while (!room.takeRefused()) {
            sent++;
            room.apply(JSON.readTree(ban("m.policy.rule.user", "$" + sent, "@spammer" + sent + ":evil.example")
                    .replace("rule:1", "rule:" + sent)));
        }
        int held = sent - 1;
        assertThat(held).as("each costs what its event's JSON takes at least").isBetween(4, 1_000 / 60);
        assertThat(room.ruleCount()).isEqualTo(held);

        for (int withdrawn = 1; withdrawn <= 3; withdrawn++) {
            assertThat(room.apply(JSON.readTree(emptied("m.policy.rule.user", "$w" + withdrawn)
                    .replace("rule:1", "rule:" + withdrawn)))).isTrue();
        }
        assertThat(room.ruleCount()).isEqualTo(held - 3);
        assertThat(room.takeRefused()).isFalse();
        assertThat(room.apply(JSON.readTree(ban("m.policy.rule.user", "$again", "@late:evil.example")
                .replace("rule:1", "rule:late")))).as("room again once rules are withdrawn").isTrue();
    }
}
