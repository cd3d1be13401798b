package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The flat table of exact IDs: a map from a key to the record of the first rule under it. */
class RuleTableTest {
    private final RuleRecords.Builder records = new RuleRecords.Builder(1);
    private final RuleTable.Builder builder = new RuleTable.Builder();

    /** Writes a rule naming {@code id} and files it under {@code id}; its record's offset. */
    private int put(String id, int line) {
        PolicyRule rule = new PolicyRule(EntityKind.USER, Entity.of(id), Recommendation.BAN, "",
                new PolicyRule.Origin("list", Optional.empty(), Optional.empty(), line));
        int record = records.add(rule, id);
        builder.putIfAbsent(id, record);
        return record;
    }

    private static int get(RuleTable table, String key) {
        return table.get(key);
    }

    @Test
    void findsEveryKeyItWasGivenAndNoOther() {
        Map<String, Integer> expected = new HashMap<>();
        for (int i = 0; i < 50_000; i++) {
            String id = "@user" + i + ":example.org";
            expected.put(id, put(id, i));
        }
        RuleTable table = builder.build(records.build());

        assertThat(table.size()).isEqualTo(50_000);
        expected.forEach((key, record) -> assertThat(get(table, key)).isEqualTo(record));
        assertThat(get(table, "@user50000:example.org")).isEqualTo(RuleTable.ABSENT);
        assertThat(get(table, "")).isEqualTo(RuleTable.ABSENT);
    }

    @Test
    void theFirstRuleUnderAKeyIsKept() {
        int first = put("@spammer:example.org", 1);
        put("@spammer:example.org", 2);

        RuleTable table = builder.build(records.build());

        assertThat(table.size()).isEqualTo(1);
        assertThat(get(table, "@spammer:example.org")).isEqualTo(first);
    }

    @Test
    void theRulesGivenUnderAKeyAfterTheFirstAreFoundByThatKeyAlone() {
        for (int i = 0; i < 1_000; i++) {
            put("@user" + i + ":example.org", i);
        }
        int second = put("@user7:example.org", 1_000);
        int third = put("@user7:example.org", 1_001);
        int other = put("@user8:example.org", 1_002);

        RuleTable table = builder.build(records.build());

        assertThat(table.duplicatesOf("@user7:example.org")).containsExactly(second, third);
        assertThat(table.duplicatesOf("@user8:example.org")).containsExactly(other);
        assertThat(table.duplicatesOf("@user9:example.org")).isEmpty();
    }

    @Test
    void keysAListAuthorMadeToShareTheirStringHashDoNotPileUpInOneRun() {
        // every string of 15 "Aa" or "BB" pairs has the same String.hashCode: 32,768 of them
        int count = 1 << 15;
        for (int i = 0; i < count; i++) {
            StringBuilder key = new StringBuilder("@");
            for (int pair = 0; pair < 15; pair++) {
                key.append((i >> pair & 1) == 0 ? "Aa" : "BB");
            }
            put(key.append(":example.org").toString(), i);
        }
        RuleRecords built = records.build();
        RuleTable table = builder.build(built);

        assertThat(table.size()).isEqualTo(count);
        // linear probing two thirds full reads some tens of slots at worst; keys in one pile-up, all of them
        assertThat(table.longestProbe()).as("slots one lookup reads, at most").isLessThan(1_000);
        assertThat(built.rule(get(table, "@" + "BB".repeat(15) + ":example.org")).origin().line()).isEqualTo(count - 1);
    }

    @Test
    void keysBuiltToCancelAFlipOfTheTopBitInTheNextBlockDoNotPileUpEither() {
        // Against a hash whose step keeps only a product's low half, flipping bit 63 of a 4-character
        // block (bit 15 of its 4th character) changes the state by bits 63 and 34 whatever the seed, and
        // the same flips in the next block (bit 2 of its 3rd character, bit 15 of its 4th) cancel it:
        // ten such pairs of blocks make 1,024 keys that would collide for every seed.
        int count = 1 << 10;
        for (int i = 0; i < count; i++) {
            StringBuilder key = new StringBuilder();
            for (int pair = 0; pair < 10; pair++) {
                boolean flip = (i >> pair & 1) == 1;
                key.append("abc").append((char) ('d' ^ (flip ? 0x8000 : 0)));
                key.append("ef").append((char) ('g' ^ (flip ? 0x4 : 0))).append((char) ('h' ^ (flip ? 0x8000 : 0)));
            }
            put(key.toString(), i);
        }
        RuleTable table = builder.build(records.build());

        assertThat(table.size()).isEqualTo(count);
        assertThat(table.longestProbe()).as("slots one lookup reads, at most").isLessThan(256);
    }

    @Test
    void keysWithTheSameHashCodeAreToldApart() {
        // "Aa" and "BB" have the same String.hashCode, and so do all their concatenations of equal length
        String[] keys = {"AaAa", "AaBB", "BBAa", "BBBB"};
        for (int i = 0; i < keys.length; i++) {
            put(keys[i], i);
        }
        RuleRecords built = records.build();
        RuleTable table = builder.build(built);

        for (int i = 0; i < keys.length; i++) {
            assertThat(built.rule(get(table, keys[i])).origin().line()).isEqualTo(i);
        }
        assertThat(get(table, "AaAB")).isEqualTo(RuleTable.ABSENT);
    }

    @Test
    void anEmptyTableFindsNothing() {
        RuleTable table = builder.build(records.build());

        assertThat(table.isEmpty()).isTrue();
        assertThat(get(table, "@anyone:example.org")).isEqualTo(RuleTable.ABSENT);
    }
}
