package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The JSON form of a policy list file: state events read one at a time, as the room would hold them. */
class RuleTextTest {
    private static final String BAN = """
            {"type": "m.policy.rule.user", "state_key": "rule:%s", "event_id": "$%s", "sender": "@mod:example.org",
             "content": {"entity": "%s", "recommendation": "m.ban", "reason": "spam"}}""";

    private static String ban(String slot, String entity) {
        return BAN.formatted(slot, slot + entity.length(), entity);
    }

    @Test
    void theLastEventOfEachSlotHoldsAndEmptyContentClearsIt() {
        String json = "[" + ban("a", "@first:example.org") + "," + ban("b", "@kept:example.org") + ","
                + ban("a", "@second:example.org") + ","
                + "{\"type\": \"m.policy.rule.user\", \"state_key\": \"rule:b\", \"content\": {}},"
                + "{\"type\": \"m.room.member\", \"state_key\": \"@mod:example.org\", \"content\": {\"membership\": \"join\"}}]";

        RuleText.Parsed parsed = RuleText.parse(json, "community");

        assertThat(parsed.rules()).extracting(rule -> rule.entity().value()).containsExactly("@second:example.org");
        assertThat(parsed.rules().getFirst().origin().eventId()).contains("$a19");
    }

    @Test
    void eventsAreReadFromAnObjectsEventsFieldWhateverComesAroundIt() {
        String json = "{\"room_id\": \"!r:example.org\", \"state\": [{\"nested\": [1, 2]}], \"events\": ["
                + ban("a", "@spammer:example.org") + "], \"next_batch\": {\"token\": \"t\"}}";

        assertThat(RuleText.parse(json, "community").rules()).extracting(rule -> rule.entity().value())
                .containsExactly("@spammer:example.org");
    }

    @Test
    void jsonWithoutAnArrayOfEventsIsRefused() {
        assertThatThrownBy(() -> RuleText.parse("{\"events\": {\"a\": 1}}", "community"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected a JSON array of state events");
        assertThatThrownBy(() -> RuleText.parse("{\"rules\": []}", "community"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected a JSON array of state events");
    }

    @Test
    void malformedJsonIsRefusedEvenAfterTheEvents() {
        String events = "[" + ban("a", "@spammer:example.org") + "]";

        assertThatThrownBy(() -> RuleText.parse(events.substring(0, events.length() - 10), "community"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not valid JSON");
        assertThatThrownBy(() -> RuleText.parse("{\"events\": " + events + ", \"next\": [}", "community"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not valid JSON");
        assertThatThrownBy(() -> RuleText.parse("{\"events\": " + events, "community"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not valid JSON");
        assertThatThrownBy(() -> RuleText.parse(events + " []", "community"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not valid JSON");
    }
}
