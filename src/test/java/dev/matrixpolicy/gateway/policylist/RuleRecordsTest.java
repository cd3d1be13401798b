package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A source's rules written flat, and made again exactly as they were given. */
class RuleRecordsTest {

    private static PolicyRule rule(EntityKind kind, Entity entity, Recommendation recommendation, String reason,
                                   String source, String eventId, String sender, int line) {
        return new PolicyRule(kind, entity, recommendation, reason,
                new PolicyRule.Origin(source, Optional.ofNullable(eventId), Optional.ofNullable(sender), line));
    }

    /** Rules of every shape a record has: event ID or none, sender or none, narrow and wide texts, lone surrogates. */
    private static List<PolicyRule> rules() {
        return List.of(
                rule(EntityKind.USER, Entity.of("@spammer:example.org"), Recommendation.BAN, "spam", "room", "$event1",
                        "@mod:example.org", 0),
                rule(EntityKind.SERVER, Entity.of("*.bad.example"), Recommendation.TAKEDOWN, "", "file", null, null, 17),
                rule(EntityKind.USER, Entity.sha256(Entity.hashOf("@hidden:example.org")), Recommendation.BAN, "hidden",
                        "room", "$event2", "@mod:example.org", 0),
                rule(EntityKind.ROOM, Entity.of("#général:exemple.fr"), Recommendation.ALLOW, "ours ✓", "allow", null, null, 0),
                // a lone surrogate survives: the records do not go through UTF-8
                rule(EntityKind.ROOM, Entity.of("#\ud800odd:example.org"), Recommendation.BAN, "\udfff", "file", "$e\u00e9", null, 3),
                rule(EntityKind.USER, Entity.of("@Wide\u0100:Example.ORG"), Recommendation.BAN, "", "file", null, null, 4));
    }

    @Test
    void recordBytesIsExactlyWhatTheRecordsTake() {
        long expected = 0;
        RuleRecords.Builder builder = new RuleRecords.Builder(1); // grows as it goes
        for (PolicyRule rule : rules()) {
            String key = Entity.key(rule.kind(), rule.entity().value()); // differs from the value for the last rule
            expected += RuleRecords.Builder.recordBytes(rule, key);
            builder.add(rule, key);
        }

        assertThat(builder.build().end()).isEqualTo(expected);
    }

    @Test
    void everyRuleIsMadeAgainEqualToTheOneWritten() {
        List<PolicyRule> rules = rules();
        RuleRecords.Builder builder = new RuleRecords.Builder(1);
        List<Integer> offsets = new ArrayList<>();
        for (PolicyRule rule : rules) {
            offsets.add(builder.add(rule, rule.entity().value()));
        }
        RuleRecords records = builder.build();

        for (int i = 0; i < rules.size(); i++) {
            assertThat(records.rule(offsets.get(i))).isEqualTo(rules.get(i));
        }
        List<Integer> walked = new ArrayList<>();
        for (int record = 0; record < records.end(); record = records.next(record)) {
            walked.add(record);
        }
        assertThat(walked).isEqualTo(offsets);
    }

    @Test
    void aRuleLookedUpByAFoldedKeyKeepsTheEntityAsWritten() {
        PolicyRule rule = rule(EntityKind.USER, Entity.of("@Spammer:Example.ORG"), Recommendation.BAN, "", "file", null, null, 1);
        RuleRecords.Builder builder = new RuleRecords.Builder(1);
        String key = Entity.key(EntityKind.USER, rule.entity().value());
        int record = builder.add(rule, key);
        RuleRecords records = builder.build();

        assertThat(key).isEqualTo("@Spammer:example.org");
        assertThat(records.keyEquals(record, "@Spammer:example.org")).isTrue();
        assertThat(records.keyEquals(record, "@Spammer:Example.ORG")).isFalse();
        assertThat(records.value(record)).isEqualTo("@Spammer:Example.ORG");
        assertThat(records.rule(record)).isEqualTo(rule);
    }

    @Test
    void aKeyEqualsExactlyTheStringsEqualToIt() {
        String[] keys = {"", "a", "é", "\u0100", "\ud800", "\udc00", "\ud800\udc00", "ab", "a\u0000", "\u00e9\u0100"};
        RuleRecords.Builder builder = new RuleRecords.Builder(1);
        int[] records = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            records[i] = builder.add(rule(EntityKind.ROOM, Entity.of("#x:y"), Recommendation.BAN, "", "file", null, null, i), keys[i]);
        }
        RuleRecords built = builder.build();

        for (int i = 0; i < keys.length; i++) {
            for (String other : keys) {
                assertThat(built.keyEquals(records[i], other)).as("%s vs %s", keys[i], other).isEqualTo(keys[i].equals(other));
            }
        }
    }

    @Test
    void recordsGivenToRegionsLieRegionByRegionEachInTheOrderGiven() {
        List<PolicyRule> rules = rules();
        int[] regionOf = {1, 0, 1, 2, 0, 1};
        long[] regionBytes = new long[3];
        for (int i = 0; i < rules.size(); i++) {
            regionBytes[regionOf[i]] += RuleRecords.Builder.recordBytes(rules.get(i), rules.get(i).entity().value());
        }
        RuleRecords.Builder builder = new RuleRecords.Builder(regionBytes);
        List<Integer> offsets = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            offsets.add(builder.add(rules.get(i), rules.get(i).entity().value(), regionOf[i]));
        }
        RuleRecords records = builder.build();

        List<PolicyRule> walked = new ArrayList<>();
        for (int record = 0; record < records.end(); record = records.next(record)) {
            walked.add(records.rule(record));
        }
        assertThat(walked).containsExactly(rules.get(1), rules.get(4), rules.get(0), rules.get(2), rules.get(5), rules.get(3));
        for (int i = 0; i < rules.size(); i++) {
            assertThat(records.rule(offsets.get(i))).isEqualTo(rules.get(i));
        }
    }

    @Test
    void aRegionSizedWrongIsRefusedRatherThanWrittenOverOrLeftWithAGap() {
        PolicyRule rule = rules().getFirst();
        long bytes = RuleRecords.Builder.recordBytes(rule, rule.entity().value());

        RuleRecords.Builder tooSmall = new RuleRecords.Builder(new long[] {bytes, bytes});
        tooSmall.add(rule, rule.entity().value(), 0);
        assertThatThrownBy(() -> tooSmall.add(rule, rule.entity().value(), 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("region 0");

        RuleRecords.Builder tooLarge = new RuleRecords.Builder(new long[] {2 * bytes, bytes});
        tooLarge.add(rule, rule.entity().value(), 0);
        tooLarge.add(rule, rule.entity().value(), 1);
        assertThatThrownBy(tooLarge::build).isInstanceOf(IllegalStateException.class).hasMessageContaining("region 0");

        RuleRecords.Builder lastGrows = new RuleRecords.Builder(new long[] {bytes, 1});
        lastGrows.add(rule, rule.entity().value(), 0);
        lastGrows.add(rule, rule.entity().value(), 1);
        lastGrows.add(rule, rule.entity().value(), 1);
        assertThat(lastGrows.build().end()).isEqualTo(3 * bytes);
    }
}
