package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The two formats of a policy list file or URL. */
class RuleTextTest {

    @Test
    void aRoomsStateWithAnEventBeyondJacksonsDefaultLimitsIsStillRead() {
        String hostileJoin = "{\"type\": \"m.room.member\", \"state_key\": \"@joiner:evil.example\", \"content\": {"
                + "\"membership\": \"join\", \"deep\": " + "[".repeat(900) + "]".repeat(900) + ", \"" + "k".repeat(50_001) + "\": 1, "
                + "\"big\": " + "9".repeat(2_000) + "}}";
        String rule = "{\"type\": \"m.policy.rule.user\", \"state_key\": \"rule:1\", "
                + "\"content\": {\"entity\": \"@spammer:example.com\", \"recommendation\": \"m.ban\"}}";

        RuleText.Parsed parsed = RuleText.parse("[" + hostileJoin + ", " + rule + "]", "exported");

        assertThat(parsed.rules()).extracting(found -> found.entity().value()).containsExactly("@spammer:example.com");
    }

    @Test
    void linesGiveOneRuleEachAndSkipCommentsAndBlankLines() {
        RuleText.Parsed parsed = RuleText.parse("""
                # our list
                ban user @spammer:example.com crypto scams, twice

                allow server friends.example
                TAKEDOWN room !abuse:example.org
                ban user sha256:%s
                """.formatted(Entity.hashOf("@yarrgh:example.com")), "local");

        assertThat(parsed.rules()).extracting(PolicyRule::kind, PolicyRule::recommendation, rule -> rule.entity().describe(),
                        PolicyRule::reason, rule -> rule.origin().line())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(EntityKind.USER, Recommendation.BAN, "@spammer:example.com", "crypto scams, twice", 2),
                        org.assertj.core.groups.Tuple.tuple(EntityKind.SERVER, Recommendation.ALLOW, "friends.example", "", 4),
                        org.assertj.core.groups.Tuple.tuple(EntityKind.ROOM, Recommendation.TAKEDOWN, "!abuse:example.org", "", 5),
                        org.assertj.core.groups.Tuple.tuple(EntityKind.USER, Recommendation.BAN,
                                "sha256:" + Entity.hashOf("@yarrgh:example.com"), "", 6));
        assertThat(parsed.skipped()).isEmpty();
    }

    @Test
    void linesMayEndInCrLfOrNothingAndMayHoldAnyUtf8() {
        RuleText.Parsed parsed = RuleText.parse("ban user @a:example.com spam\r\n\r\n"
                + "ban user @b:example.com spam, en fran\u00e7ais \uD83D\uDE08\r\nban server c.example", "local");

        assertThat(parsed.rules()).extracting(rule -> rule.entity().value(), PolicyRule::reason, rule -> rule.origin().line())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("@a:example.com", "spam", 1),
                        org.assertj.core.groups.Tuple.tuple("@b:example.com", "spam, en fran\u00e7ais \uD83D\uDE08", 3),
                        org.assertj.core.groups.Tuple.tuple("c.example", "", 4));
    }

    @Test
    void aLineListsRulesAreReadFromItsBytesOnEachWalkNotHeldAsObjects() {
        RuleText.Parsed parsed = RuleText.parse("ban user @a:example.com spam\n# note\nallow server b.example\n", "local");

        List<PolicyRule> first = List.copyOf(parsed.rules());
        List<PolicyRule> second = List.copyOf(parsed.rules());

        assertThat(parsed.rules()).hasSize(2);
        assertThat(second).isEqualTo(first);
        assertThat(second.getFirst()).as("made again, so a million of them never stand in the heap").isNotSameAs(first.getFirst());
    }

    private static List<PolicyRule> walk(Iterable<PolicyRule> rules) {
        List<PolicyRule> walked = new ArrayList<>();
        rules.forEach(walked::add);
        return walked;
    }

    @Test
    void everyWalkOfALineListGivesTheSameRulesWithTheirLinesFromAnyThread() throws Exception {
        StringBuilder text = new StringBuilder("\uFEFF# a list\r\n\r\n");
        for (int i = 0; i < 20_000; i++) {
            text.append(i % 7 == 0 ? "# comment\n" : "").append("ban user @u").append(i).append(":Example.com spam ").append(i % 3).append("\r\n");
        }
        text.append("allow server friends.example"); // no final newline
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        RuleText.Parsed parsed = RuleText.parse(bytes, "file");

        List<PolicyRule> first = walk(parsed.rules());
        List<PolicyRule> second = CompletableFuture.supplyAsync(() -> walk(parsed.rules())).get(); // another thread
        assertThat(first).hasSize(parsed.rules().size()).hasSize(20_001).isEqualTo(second);
        assertThat(first.getFirst().origin().line()).isEqualTo(4); // BOM, header comment, blank line, then a comment
        assertThat(first.get(1).origin().line()).isEqualTo(5);
        assertThat(first.getLast().entity().value()).isEqualTo("friends.example");
        assertThat(first.getLast().origin().line()).isEqualTo(2 + 20_000 + 2_858 + 1);
        // an iterator is single-use and independent
        var a = parsed.rules().iterator();
        var b = parsed.rules().iterator();
        assertThat(a.next()).isEqualTo(b.next());
        assertThat(a.next()).isEqualTo(first.get(1));
    }

    @Test
    void aBadLineRefusesTheWholeFileNamingTheLine() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RuleText.parse("ban user @a:example.com\nbna user @b:example.com\n", "local"))
                .withMessage("line 2: 'bna' is not ban, takedown or allow");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RuleText.parse("ban\u0085forged\u001b[31m user @b:example.com\n", "local"))
                .as("a curator's text in the message cannot break the log line that shows it")
                .withMessage("line 1: 'ban\\u0085forged\\u001B[31m' is not ban, takedown or allow");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban person @a:example.com", "local"))
                .withMessage("line 1: 'person' is not user, room or server");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban user", "local"))
                .withMessageStartingWith("line 1: expected '<ban|takedown|allow> <user|room|server> <entity> [reason]'");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban user sha256:nope", "local"))
                .withMessage("line 1: 'sha256:nope' is not sha256:<base64 of a SHA-256>");
    }

    @Test
    void aLineWhoseEntityIsOfAnotherKindRefusesTheFileRatherThanLoadARuleThatNeverMatches() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RuleText.parse("ban server evil.example\nban user evil.example spam\n", "local"))
                .withMessage("line 2: 'evil.example' can never match a user rule: expected a user ID (@user:server, no control characters) or a glob of one");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban server @spammer:evil.example", "local"))
                .withMessageStartingWith("line 1: '@spammer:evil.example' can never match a server rule");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban room @spammer:evil.example", "local"))
                .withMessageStartingWith("line 1: '@spammer:evil.example' can never match a room rule");

        assertThat(RuleText.parse("""
                ban user *:evil.example
                ban user ?spammer:evil.example
                ban room #spam:evil.example
                ban room !abc
                ban server *.evil.example
                ban server evil.example:8448
                ban server sha256:VPqwbUV7mMMkOVto3kPwsNXXiALMs7VCKWh3OeqqjGs
                """, "local").rules()).hasSize(7);
    }

    @Test
    void jsonIsReadAsARoomsStateWhereTheLastEventOfASlotHolds() {
        RuleText.Parsed parsed = RuleText.parse("""
                {"events": [
                  {"type": "m.policy.rule.user", "state_key": "a", "content": {"entity": "@a:x", "recommendation": "m.ban"}},
                  {"type": "m.policy.rule.user", "state_key": "b", "content": {"entity": "@b:x", "recommendation": "m.ban"}},
                  {"type": "m.policy.rule.user", "state_key": "a", "content": {}},
                  {"type": "m.policy.rule.user", "state_key": "c", "content": {"entity": "@c:x", "recommendation": "m.mute"}}]}""",
                "community");

        assertThat(parsed.rules()).extracting(rule -> rule.entity().value()).containsExactly("@b:x");
        assertThat(parsed.skipped()).isEqualTo(Map.of(PolicyEvents.Skipped.UNKNOWN_RECOMMENDATION, 1));
    }

    @Test
    void jsonThatIsNotAListOfEventsIsRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("{\"rules\": []}", "x"))
                .withMessage("expected a JSON array of state events, or an object with one under 'events'");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("{\"events\": {\"a\": 1}}", "x"))
                .withMessage("expected a JSON array of state events, or an object with one under 'events'");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("[{\"type\": ", "x"))
                .withMessageStartingWith("not valid JSON: ");
    }

    @Test
    void aListOfEventsHoldingSomethingElseThanEventsIsRefusedRatherThanReadAsNoRules() {
        // A JSON array of rule lines, or of anything but events, held no rule and was taken as a list with
        // none, lifting every ban the source held: as a line that is not a rule, it refuses the list whole.
        for (String notEvents : List.of("[\"ban user @spammer:example.org\"]", "[[" + ban("@spammer:example.org") + "]]",
                "[null]", "[" + ban("@a:example.org") + ", 1]", "{\"events\": [\"x\"]}", "[" + "[".repeat(5000) + "]".repeat(5000) + "]")) {
            assertThatIllegalArgumentException().as(notEvents).isThrownBy(() -> RuleText.parse(notEvents, "community"))
                    .withMessageContaining(", not an event (a JSON object)");
        }
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("[\n" + ban("@a:example.org") + ",\n  \"ban\"]", "x"))
                .withMessage("line 4: item 2 of the events is a string, not an event (a JSON object)");
    }

    @Test
    void eventsAreReadFromAnObjectsEventsFieldWhateverComesAroundIt() {
        String json = "{\"room_id\": \"!r:example.org\", \"state\": [{\"nested\": [1, 2]}], \"events\": ["
                + ban("@spammer:example.org") + "], \"next_batch\": {\"token\": \"t\"}}";

        assertThat(RuleText.parse(json, "community").rules()).extracting(rule -> rule.entity().value())
                .containsExactly("@spammer:example.org");
    }

    @Test
    void malformedJsonIsRefusedEvenAfterTheEvents() {
        // the events are read one at a time, so what follows them must still be read to the end
        String events = "[" + ban("@spammer:example.org") + "]";

        for (String malformed : List.of(events.substring(0, events.length() - 10), "{\"events\": " + events + ", \"next\": [}",
                "{\"events\": " + events, events + " []")) {
            assertThatIllegalArgumentException().as(malformed).isThrownBy(() -> RuleText.parse(malformed, "community"))
                    .withMessageStartingWith("not valid JSON");
        }
    }

    @Test
    void bytesThatAreNotUtf8AreRefusedInEitherFormatEvenInAComment() {
        byte[] lines = {'b', 'a', 'n', ' ', 'u', 's', 'e', 'r', ' ', '@', (byte) 0xC3, '(', ':', 'x'};
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse(lines, "local")).withMessage("line 1: not UTF-8 text");
        byte[] comment = {'b', 'a', 'n', ' ', 's', 'e', 'r', 'v', 'e', 'r', ' ', 'x', '\n', '#', ' ', (byte) 0xFF, '\n'};
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse(comment, "local")).withMessage("line 2: not UTF-8 text");

        byte[] json = ("[" + ban("@spammer:example.org") + "]").getBytes(StandardCharsets.UTF_8);
        json[json.length - 20] = (byte) 0xFF; // inside the reason
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse(json, "community"))
                .withMessageStartingWith("not valid JSON: ").withMessageContaining("UTF-8");
    }

    @Test
    void aNoBreakOrEmSpaceSeparatesWordsAsASpaceDoes() {
        PolicyRule rule = RuleText.parse("\u00A0ban\u00A0user\u2003@spammer:example.org\u00A0crypto\u00A0spam\u2003\n", "local")
                .rules().iterator().next();

        assertThat(rule.entity().value()).isEqualTo("@spammer:example.org");
        assertThat(rule.reason().toString()).isEqualTo("crypto\u00A0spam");
    }

    @Test
    void aUserIdWithASpaceOrControlCharacterInsideRefusesTheFileRatherThanLoadARuleThatNeverMatches() {
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban user @spam\u00A0mer:example.org", "local"))
                .withMessageStartingWith("line 1: '@spam' can never match a user rule");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban user @spam\u0085mer:example.org", "local"))
                .withMessageStartingWith("line 1: '@spam\\u0085mer:example.org' can never match a user rule");
        assertThatIllegalArgumentException().isThrownBy(() -> RuleText.parse("ban server b\u00FCcher.example", "local"))
                .withMessageStartingWith("line 1: 'b\u00FCcher.example' can never match a server rule");
    }

    @Test
    void contentOfWhiteSpaceAloneOfAnyKindIsAnEmptyListAndRefused() {
        for (String blank : List.of("", "\n", " \t\r\n", "\f\n\f", "\u00A0\n\u2003", "\uFEFF \n")) {
            assertThatIllegalArgumentException().as(blank).isThrownBy(() -> RuleText.parse(blank, "local"))
                    .withMessage("the list is empty; a list with no rules is written as [] or a comment line");
        }
        assertThat(RuleText.parse("\f# no rules today\n", "local").rules()).isEmpty();
        assertThat(RuleText.parse(" [] ", "local").rules()).isEmpty();
    }

    @Test
    void aByteOrderMarkAndLeadingWhitespaceChangeNothing() {
        byte[] mark = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        String json = " \n\t[" + ban("@spammer:example.org") + "]";

        for (String text : List.of(json, "\nban user @spammer:example.org spam\n")) {
            byte[] marked = new byte[mark.length + text.getBytes(StandardCharsets.UTF_8).length];
            System.arraycopy(mark, 0, marked, 0, mark.length);
            System.arraycopy(text.getBytes(StandardCharsets.UTF_8), 0, marked, mark.length, marked.length - mark.length);

            assertThat(RuleText.parse(marked, "community").rules()).as(text).extracting(rule -> rule.entity().value())
                    .containsExactly("@spammer:example.org");
        }
    }

    private static String ban(String entity) {
        return """
                {"type": "m.policy.rule.user", "state_key": "rule:1", "event_id": "$1", "sender": "@mod:example.org",
                 "content": {"entity": "%s", "recommendation": "m.ban", "reason": "spam"}}""".formatted(entity);
    }
}
