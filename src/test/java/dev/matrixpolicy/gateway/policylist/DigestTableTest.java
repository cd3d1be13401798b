package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The flat table of MSC4205 hashes: raw SHA-256 digests to the first rule under each. */
class DigestTableTest {
    private static PolicyRule rule(String id, int line) {
        return new PolicyRule(EntityKind.USER, Entity.sha256(Entity.hashOf(id)), Recommendation.BAN, "",
                new PolicyRule.Origin("list", Optional.empty(), Optional.empty(), line));
    }

    @Test
    void findsTheDigestOfEveryIdItWasGivenAndNoOther() {
        DigestTable.Builder builder = new DigestTable.Builder();
        PolicyRule[] rules = new PolicyRule[20_000];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = rule("@hidden" + i + ":example.org", i);
            builder.putIfAbsent(rules[i].entity().digest(), rules[i]);
        }
        DigestTable table = builder.build();

        assertThat(table.size()).isEqualTo(rules.length);
        for (int i = 0; i < rules.length; i++) {
            assertThat(table.get(Entity.digestOf("@hidden" + i + ":example.org"))).isSameAs(rules[i]);
        }
        assertThat(table.get(Entity.digestOf("@hidden20000:example.org"))).isNull();
    }

    @Test
    void digestsThatShareTheirFirstBytesAreToldApart() {
        byte[] one = new byte[32];
        byte[] other = new byte[32];
        other[31] = 1;
        DigestTable.Builder builder = new DigestTable.Builder();
        PolicyRule first = rule("@one:example.org", 1);
        PolicyRule second = rule("@other:example.org", 2);
        builder.putIfAbsent(one, first);
        builder.putIfAbsent(other, second);
        builder.putIfAbsent(Arrays.copyOf(one, 32), rule("@again:example.org", 3));
        DigestTable table = builder.build();

        assertThat(table.size()).isEqualTo(2);
        assertThat(table.get(one)).isSameAs(first);
        assertThat(table.get(other)).isSameAs(second);
        byte[] third = new byte[32];
        third[16] = 1;
        assertThat(table.get(third)).isNull();
    }

    @Test
    void anEmptyTableFindsNothingAndOnlyDigestsGoIn() {
        assertThat(new DigestTable.Builder().build().get(new byte[32])).isNull();
        assertThatThrownBy(() -> new DigestTable.Builder().putIfAbsent(new byte[31], rule("@x:y", 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aHashedEntityNamesTheDigestOfItsId() {
        assertThat(Entity.sha256(Entity.hashOf("@spammer:example.org") + "=").digest())
                .isEqualTo(Entity.digestOf("@spammer:example.org"));
    }
}
