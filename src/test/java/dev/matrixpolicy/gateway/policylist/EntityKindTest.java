package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rule event types, as a sync filter asks for them and as events are read. */
class EntityKindTest {

    @Test
    void everyRuleEventTypeOfEveryPrefixIsListedOnceAndReadsBackAsItsKind() {
        assertThat(EntityKind.eventTypes()).hasSize(9).doesNotHaveDuplicates()
                .contains("m.policy.rule.user", "m.room.rule.room", "org.matrix.mjolnir.rule.server")
                .allSatisfy(type -> assertThat(EntityKind.ofEventType(type)).isPresent()
                        .hasValueSatisfying(kind -> assertThat(type).endsWith("." + kind.wireName())));
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            USER   | @spammer:evil.example | true
            USER   | @*:evil.example       | true
            USER   | *:evil.example        | true
            USER   | ?pammer:evil.example  | true
            USER   | evil.example          | false
            USER   | #room:evil.example    | false
            USER   | !room                 | false
            USER   | @spammer              | false
            USER   | @spam*                | true
            USER   | @spam\u00A0mer:evil.example | true
            USER   | @\u00E9l\u00E8ve:evil.example | true
            USER   | @spam\tmer:evil.example | false
            USER   | @spam\u0085mer:evil.example | false
            ROOM   | !room:evil.example    | true
            ROOM   | !opaque-v12-id        | true
            ROOM   | #spam:evil.example    | true
            ROOM   | *                     | true
            ROOM   | @spammer:evil.example | false
            ROOM   | evil.example          | false
            ROOM   | #spam                 | false
            ROOM   | #spam\u00A0room:evil.example | true
            ROOM   | !room\u0085:evil.example | false
            ROOM   | !salle-\u00E9:evil.example | true
            SERVER | evil.example          | true
            SERVER | evil.example:8448     | true
            SERVER | *.evil.example        | true
            SERVER | 192.0.2.1             | true
            SERVER | [2001:db8::1]          | true
            SERVER | @spammer:evil.example | false
            SERVER | #room:evil.example    | false
            SERVER | !room:evil.example    | false
            SERVER | b\u00FCcher.example     | false
            SERVER | evil\u2003.example      | false""")
    void anEntityCouldNameItsKindOnlyWithItsKindsSigilServerAndTheCharactersSynapseTakes(EntityKind kind, String entity, boolean could) {
        assertThat(kind.couldName(entity)).isEqualTo(could);
    }

    @Test
    void anEntityLongerThanAnyIdCanBeNamesNothingAGlobCountingItsCharactersButStars() {
        String longest = "@" + "a".repeat(240) + ":evil.example"; // 254 bytes

        assertThat(EntityKind.USER.couldName(longest)).isTrue();
        assertThat(EntityKind.USER.couldName("@" + "a".repeat(60_000) + ":evil.example")).isFalse();
        assertThat(EntityKind.SERVER.couldName("a".repeat(300) + ".example")).isFalse();
        assertThat(EntityKind.USER.couldName("@*" + "*".repeat(300) + ":evil.example")).isTrue();
        assertThat(EntityKind.USER.couldName("@*" + "a*".repeat(240) + ":evil.example")).as("254 characters but stars").isTrue();
        // every character but a star stands for at least one byte of the ID: no ID of 255 bytes has 256
        assertThat(EntityKind.USER.couldName("@" + "?".repeat(242) + "*:evil.example")).isFalse();
        assertThat(EntityKind.USER.couldName("@" + "a".repeat(65_000) + "?*")).isFalse();
    }

    /**
     * Synapse creates an alias with an empty localpart ({@code createRoom}'s {@code room_alias_name: ""})
     * and counts an alias's 255 in characters, not bytes, and asks the callbacks about both: a rule
     * naming one names an alias that can exist, so it holds.
     */
    @Test
    void aRoomRuleCanNameEveryAliasSynapseCreatesAnEmptyLocalpartAndTwoHundredAndFiftyFiveCharactersIncluded() {
        String cjk = "#" + "\u65E5".repeat(100) + ":evil.example"; // 114 characters, 314 bytes
        String longest = "#" + "\u65E5".repeat(241) + ":evil.example"; // 255 characters

        assertThat(EntityKind.ROOM.couldName("#:evil.example")).isTrue();
        assertThat(EntityKind.ROOM.couldName(cjk)).isTrue();
        assertThat(EntityKind.ROOM.couldName(longest)).isTrue();
        assertThat(EntityKind.ROOM.couldName("#" + longest)).as("256 characters").isFalse();
        assertThat(EntityKind.ROOM.couldName("#*" + "\u65E5".repeat(240) + "?:evil.example")).as("255 characters but stars").isTrue();
        assertThat(EntityKind.ROOM.couldName("#?" + "\u65E5".repeat(241) + "*:evil.example")).as("256 characters but stars").isFalse();
        assertThat(EntityKind.USER.couldName("@:evil.example")).as("Synapse takes a remote user without a localpart").isTrue();

        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", RuleText.parse(
                "ban room #:evil.example\nban room " + cjk + "\n", "file").rules())));
        assertThat(index.decide(EntityKind.ROOM, "#:evil.example")).isPresent();
        assertThat(index.decide(EntityKind.ROOM, cjk)).isPresent();
    }

    /**
     * Synapse takes a remote user's localpart and a remote room's opaque part (before room version 12)
     * as any text without control characters, and asks the callbacks about them: a rule naming one
     * exactly holds.
     */
    @Test
    void aRuleNamingAUserOrRoomOutsidePrintableAsciiHoldsAsSynapseAsksAboutThem() {
        String user = "@\u00E9l\u00E8ve:evil.example";
        String room = "!salle-\u00E9:evil.example";
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", RuleText.parse(
                "ban user " + user + "\nban room " + room + "\n", "file").rules())));

        assertThat(index.decide(EntityKind.USER, user)).isPresent();
        assertThat(index.decide(EntityKind.ROOM, room)).isPresent();
        assertThat(index.decide(EntityKind.USER, "@eleve:evil.example")).isEmpty();
    }
}
