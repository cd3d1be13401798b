package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The compiled index: keys told apart whatever their hashes, and server names compared without regard to case. */
class PolicyIndexTest {

    @Test
    void keysWithEqualHashesAreBothFoundAndAnEqualKeyKeepsTheFirstRule() {
        assertThat("@Aa:x.org".hashCode()).isEqualTo("@BB:x.org".hashCode());
        RuleText.Parsed parsed = RuleText.parse("""
                ban user @Aa:x.org first
                ban user @BB:x.org second
                ban user @dup:X.ORG kept
                ban user @dup:x.org dropped
                ban user @Aa:x.org dropped too
                """, "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.USER, "@Aa:x.org")).map(PolicyRule::reason).contains("first");
        assertThat(index.decide(EntityKind.USER, "@BB:x.org")).map(PolicyRule::reason).contains("second");
        assertThat(index.decide(EntityKind.USER, "@dup:x.org")).map(PolicyRule::reason).contains("kept");
        assertThat(index.decide(EntityKind.USER, "@dup:X.org")).map(PolicyRule::reason).contains("kept");
    }

    @Test
    void aHashedBanHoldsWhateverTheCaseOfTheServerButNotOfTheLocalpart() {
        String hash = Entity.hashOf("@spammer:example.com");
        RuleText.Parsed parsed = RuleText.parse("ban user sha256:" + hash + "\n", "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.USER, "@spammer:EXAMPLE.com")).isPresent();
        assertThat(index.matching(EntityKind.USER, "@spammer:EXAMPLE.com")).hasSize(1);
        assertThat(index.decide(EntityKind.USER, "@Spammer:example.com")).isEmpty();
    }

    @Test
    void aHashOfTheIdAsWrittenWithCapitalsInItsServerNameHoldsToo() {
        String hash = Entity.hashOf("@spammer:Example.com"); // MSC4205 hashes the ID as it is
        RuleText.Parsed parsed = RuleText.parse("ban user sha256:" + hash + "\n", "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.USER, "@spammer:Example.com")).isPresent();
        assertThat(index.matching(EntityKind.USER, "@spammer:Example.com")).hasSize(1);
        assertThat(index.decide(EntityKind.USER, "@spammer:example.com")).as("only the case the curator hashed").isEmpty();
    }

    @Test
    void aGlobsQuestionMarkStandsForOneCharacterEvenOneWhoseLowerCaseIsTwo() {
        RuleText.Parsed parsed = RuleText.parse("ban room #?stanbul-*:example.org\n", "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        // U+0130 lower-cased as a string is 'i' and a combining dot: two characters for one '?'
        assertThat(index.decide(EntityKind.ROOM, "#\u0130stanbul-deals:example.org")).isPresent();
        assertThat(index.decide(EntityKind.ROOM, "#istanbul-deals:example.org")).isPresent();
        assertThat(index.decide(EntityKind.ROOM, "#stanbul-deals:example.org")).isEmpty();
    }

    @Test
    void aRoomIdComparesExactlyItsServerPartTooWhileAnAliasesServerIgnoresCase() {
        String hash = Entity.hashOf("!hashed:evil.example");
        RuleText.Parsed parsed = RuleText.parse("""
                ban room !abc:evil.example
                ban room sha256:%s
                ban room #spam:evil.example
                """.formatted(hash), "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.ROOM, "!abc:evil.example")).isPresent();
        assertThat(index.decide(EntityKind.ROOM, "!abc:Evil.Example")).as("another room: room IDs are opaque").isEmpty();
        assertThat(index.decide(EntityKind.ROOM, "!hashed:evil.example")).isPresent();
        assertThat(index.decide(EntityKind.ROOM, "!hashed:EVIL.example")).isEmpty();
        assertThat(index.decide(EntityKind.ROOM, "#spam:Evil.Example")).isPresent();
    }

    @Test
    void aRoomGlobOnAServerNameBansTheRoomsMadeThereWhichAServerRuleDoesNot() {
        RuleText.Parsed parsed = RuleText.parse("""
                ban room !*:evil.example rooms made there
                ban server evil.example
                """, "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.ROOM, "!abc:evil.example")).map(PolicyRule::reason).contains("rooms made there");
        assertThat(index.decide(EntityKind.ROOM, "!abc:Evil.Example")).isPresent();
        assertThat(index.decide(EntityKind.ROOM, "!abc:good.example")).isEmpty();
    }

    @Test
    void aBanOfAServerOnAnIpv6AddressHoldsHoweverTheAddressIsWritten() {
        RuleText.Parsed parsed = RuleText.parse("""
                ban server [2001:DB8:0::1] written long
                ban user @spammer:[2001:db8::2]:8448 by ID
                ban server sha256:%s hashed
                """.formatted(Entity.hashOf("[2001:db8::3]")), "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.SERVER, "[2001:db8::1]")).map(PolicyRule::reason).contains("written long");
        assertThat(index.decide(EntityKind.SERVER, "[2001:0db8:0000:0000:0000:0000:0000:0001]")).isPresent();
        assertThat(index.decide(EntityKind.USER, "@spammer:[2001:DB8:0:0:0:0:0:2]:8448")).map(PolicyRule::reason).contains("by ID");
        assertThat(index.decide(EntityKind.SERVER, "[2001:db8:0::3]")).map(PolicyRule::reason).contains("hashed");
        assertThat(index.decide(EntityKind.SERVER, "[2001:db8::4]")).isEmpty();
        assertThat(index.decide(EntityKind.USER, "@spammer:[2001:db8::2]:8449")).as("another port is another server").isEmpty();
    }

    @Test
    void aServerRuleWrittenFullyQualifiedBansTheServerWrittenWithoutTheDot() {
        RuleText.Parsed parsed = RuleText.parse("""
                ban server evil.example. with a dot
                ban server ported.example.:8448 with a port
                ban user @spammer:dotted.example. by ID
                """, "file");
        PolicyIndex index = PolicyIndex.compile(List.of(new PolicyIndex.Source("file", parsed.rules())));

        assertThat(index.decide(EntityKind.SERVER, "evil.example")).map(PolicyRule::reason).contains("with a dot");
        assertThat(index.decide(EntityKind.SERVER, "Evil.Example.")).map(PolicyRule::reason).contains("with a dot");
        assertThat(index.decide(EntityKind.SERVER, "ported.example:8448")).map(PolicyRule::reason).contains("with a port");
        assertThat(index.decide(EntityKind.SERVER, "ported.example")).as("its port kept").isEmpty();
        assertThat(index.decide(EntityKind.USER, "@spammer:dotted.example.")).isPresent();
        assertThat(index.decide(EntityKind.USER, "@spammer:dotted.example")).as("an ID keeps its dot, as its port").isEmpty();
    }
}
