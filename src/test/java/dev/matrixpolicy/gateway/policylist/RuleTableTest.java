package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The flat table of exact IDs and hashes: a map that keeps the first rule under each key. */
class RuleTableTest {
    private static PolicyRule rule(String id, int line) {
        return new PolicyRule(EntityKind.USER, Entity.of(id), Recommendation.BAN, "",
                new PolicyRule.Origin("list", Optional.empty(), Optional.empty(), line));
    }

    @Test
    void findsEveryKeyItWasGivenAndNoOther() {
        RuleTable.Builder builder = new RuleTable.Builder();
        Map<String, PolicyRule> expected = new HashMap<>();
        for (int i = 0; i < 50_000; i++) {
            PolicyRule rule = rule("@user" + i + ":example.org", i);
            builder.putIfAbsent(rule.entity().value(), rule);
            expected.put(rule.entity().value(), rule);
        }
        RuleTable table = builder.build();

        assertThat(table.size()).isEqualTo(50_000);
        expected.forEach((key, rule) -> assertThat(table.get(key)).isSameAs(rule));
        assertThat(table.get("@user50000:example.org")).isNull();
        assertThat(table.get("")).isNull();
    }

    @Test
    void theFirstRuleUnderAKeyIsKept() {
        RuleTable.Builder builder = new RuleTable.Builder();
        PolicyRule first = rule("@spammer:example.org", 1);
        builder.putIfAbsent("@spammer:example.org", first);
        builder.putIfAbsent("@spammer:example.org", rule("@spammer:example.org", 2));

        RuleTable table = builder.build();

        assertThat(table.size()).isEqualTo(1);
        assertThat(table.get("@spammer:example.org")).isSameAs(first);
    }

    @Test
    void keysWithTheSameHashCodeAreToldApart() {
        // "Aa" and "BB" have the same String.hashCode, and so do all their concatenations of equal length
        RuleTable.Builder builder = new RuleTable.Builder();
        String[] keys = {"AaAa", "AaBB", "BBAa", "BBBB"};
        for (int i = 0; i < keys.length; i++) {
            builder.putIfAbsent(keys[i], rule(keys[i], i));
        }
        RuleTable table = builder.build();

        for (int i = 0; i < keys.length; i++) {
            assertThat(table.get(keys[i]).origin().line()).isEqualTo(i);
        }
        assertThat(table.get("AaAB")).isNull();
    }

    @Test
    void anEmptyTableFindsNothing() {
        RuleTable table = new RuleTable.Builder().build();

        assertThat(table.isEmpty()).isTrue();
        assertThat(table.get("@anyone:example.org")).isNull();
    }
}
