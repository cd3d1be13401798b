package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The compact set behind a list's exact IDs: membership as a HashSet<String> would answer it. */
class ExactIdsTest {

    private static ExactIds of(String... values) {
        ExactIds.Builder builder = new ExactIds.Builder();
        for (String value : values) {
            builder.add(value);
        }
        return builder.build();
    }

    @Test
    void containsExactlyTheEntriesAdded() {
        ExactIds ids = of("@alice:example.com", "@bob:example.com");

        assertThat(ids.contains("@alice:example.com")).isTrue();
        assertThat(ids.contains("@bob:example.com")).isTrue();
        assertThat(ids.contains("@alice:example.co")).isFalse();
        assertThat(ids.contains("@alice:example.com2")).isFalse();
        assertThat(ids.contains("")).isFalse();
    }

    /** {@code "Aa"} and {@code "BB"} share a {@code String.hashCode}, and so does every ID made of such pairs. */
    @Test
    void idsWrittenToShareAStringHashStillLandApartAndAreFound() {
        ExactIds.Builder builder = new ExactIds.Builder();
        List<String> colliding = new ArrayList<>();
        for (int bits = 0; bits < 1 << 14; bits++) {
            StringBuilder id = new StringBuilder("@");
            for (int pair = 0; pair < 14; pair++) {
                id.append((bits >>> pair & 1) == 0 ? "Aa" : "BB");
            }
            colliding.add(id.append(":x.example").toString());
        }
        colliding.forEach(builder::add);
        ExactIds ids = builder.build();

        assertThat(colliding.stream().map(String::hashCode).distinct()).hasSize(1);
        assertThat(ids.size()).isEqualTo(1 << 14);
        assertThat(ids.longestProbe()).isLessThan(64);
        assertThat(colliding).allMatch(ids::contains);
        assertThat(ids.contains("@" + "Aa".repeat(15) + ":x.example")).isFalse();
    }

    @Test
    void duplicatesAreKeptOnceAndEverythingAfterThemStillFound() {
        ExactIds ids = of("@a:x.example", "@b:x.example", "@a:x.example", "@a:x.example", "@c:x.example");

        assertThat(ids.size()).isEqualTo(3);
        assertThat(ids.contains("@a:x.example")).isTrue();
        assertThat(ids.contains("@b:x.example")).isTrue();
        assertThat(ids.contains("@c:x.example")).isTrue();
    }

    @Test
    void nonAsciiEntriesAreComparedByTheirUtf8Bytes() {
        ExactIds ids = of("@jösé:example.com", "@日本:example.com");

        assertThat(ids.contains("@jösé:example.com")).isTrue();
        assertThat(ids.contains("@日本:example.com")).isTrue();
        assertThat(ids.contains("@jose:example.com")).isFalse();
    }

    @Test
    void entriesOf255BytesAndMoreTakeTheLongLengthAndAreStillFound() {
        String long255 = "@" + "a".repeat(250) + ":x.ex";
        String long300 = "@" + "b".repeat(295) + ":x.ex";
        ExactIds ids = new ExactIds.Builder(8).add("@short:x.ex").add(long255).add(long300).add("@after:x.ex").build();

        assertThat(ids.contains(long255)).isTrue();
        assertThat(ids.contains(long300)).isTrue();
        assertThat(ids.contains("@short:x.ex")).isTrue();
        assertThat(ids.contains("@after:x.ex")).isTrue();
        assertThat(ids.contains(long255.substring(1))).isFalse();
    }

    @Test
    void anEmptySetContainsNothing() {
        assertThat(ExactIds.EMPTY.contains("@alice:example.com")).isFalse();
        assertThat(ExactIds.EMPTY.size()).isZero();
    }

    @Test
    void aHundredThousandEntriesAreAllFoundAndNothingElse() {
        ExactIds.Builder builder = new ExactIds.Builder();
        for (int i = 0; i < 100_000; i++) {
            builder.add("@user" + i + ":server" + (i % 97) + ".example");
        }
        ExactIds ids = builder.build();

        assertThat(ids.size()).isEqualTo(100_000);
        for (int i = 0; i < 100_000; i++) {
            assertThat(ids.contains("@user" + i + ":server" + (i % 97) + ".example")).isTrue();
            assertThat(ids.contains("@user" + i + ":server" + (i % 97 + 1) + ".example")).isFalse();
        }
    }
}
