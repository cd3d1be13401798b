package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The flat table of MSC4205 hashes: raw SHA-256 digests to the record of the first rule under each. */
class DigestTableTest {

    @Test
    void findsTheDigestOfEveryIdItWasGivenAndNoOther() {
        DigestTable.Builder builder = new DigestTable.Builder();
        int count = 20_000;
        for (int i = 0; i < count; i++) {
            builder.putIfAbsent(Entity.sha256(Entity.hashOf("@hidden" + i + ":example.org")).digest(), i * 10);
        }
        DigestTable table = builder.build();

        assertThat(table.size()).isEqualTo(count);
        for (int i = 0; i < count; i++) {
            assertThat(table.get(Entity.digestOf("@hidden" + i + ":example.org"))).isEqualTo(i * 10);
        }
        assertThat(table.get(Entity.digestOf("@hidden20000:example.org"))).isEqualTo(RuleTable.ABSENT);
    }

    @Test
    void theRulesGivenUnderADigestAfterTheFirstAreFoundByThatDigestAlone() {
        DigestTable.Builder builder = new DigestTable.Builder();
        for (int i = 0; i < 1_000; i++) {
            builder.putIfAbsent(Entity.digestOf("@hidden" + i + ":example.org"), i);
        }
        builder.putIfAbsent(Entity.digestOf("@hidden7:example.org"), 1_000);
        builder.putIfAbsent(Entity.digestOf("@hidden7:example.org"), 1_001);

        DigestTable table = builder.build();

        assertThat(table.duplicatesOf(Entity.digestOf("@hidden7:example.org"))).containsExactly(1_000, 1_001);
        assertThat(table.duplicatesOf(Entity.digestOf("@hidden8:example.org"))).isEmpty();
    }

    @Test
    void madeUpDigestsThatShareTheirFirstWordsDoNotPileUpInOneRun() {
        // a list's hashes are whatever its curator wrote: here 50,000 that differ only in their last bytes
        DigestTable.Builder builder = new DigestTable.Builder();
        int count = 50_000;
        for (int i = 0; i < count; i++) {
            byte[] digest = new byte[32];
            Arrays.fill(digest, 0, 24, (byte) 0x5A);
            digest[28] = (byte) (i >> 24);
            digest[29] = (byte) (i >> 16);
            digest[30] = (byte) (i >> 8);
            digest[31] = (byte) i;
            builder.putIfAbsent(digest, i);
        }
        DigestTable table = builder.build();

        assertThat(table.size()).isEqualTo(count);
        // linear probing two thirds full reads some tens of slots at worst; digests in one pile-up, all of them
        assertThat(table.longestProbe()).as("slots one lookup reads, at most").isLessThan(1_000);
    }

    @Test
    void digestsThatShareTheirFirstBytesAreToldApart() {
        byte[] one = new byte[32];
        byte[] other = new byte[32];
        other[31] = 1;
        DigestTable.Builder builder = new DigestTable.Builder();
        builder.putIfAbsent(one, 0);
        builder.putIfAbsent(other, 100);
        builder.putIfAbsent(Arrays.copyOf(one, 32), 200);
        DigestTable table = builder.build();

        assertThat(table.size()).isEqualTo(2);
        assertThat(table.get(one)).isZero();
        assertThat(table.get(other)).isEqualTo(100);
        byte[] third = new byte[32];
        third[16] = 1;
        assertThat(table.get(third)).isEqualTo(RuleTable.ABSENT);
    }

    @Test
    void anEmptyTableFindsNothingAndOnlyDigestsGoIn() {
        assertThat(new DigestTable.Builder().build().get(new byte[32])).isEqualTo(RuleTable.ABSENT);
        assertThatThrownBy(() -> new DigestTable.Builder().putIfAbsent(new byte[31], 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aHashedEntityNamesTheDigestOfItsId() {
        assertThat(Entity.sha256(Entity.hashOf("@spammer:example.org") + "=").digest())
                .isEqualTo(Entity.digestOf("@spammer:example.org"));
    }
}
