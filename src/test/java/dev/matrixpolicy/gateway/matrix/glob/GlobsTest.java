package dev.matrixpolicy.gateway.matrix.glob;

import static dev.matrixpolicy.gateway.matrix.glob.GlobReference.asRegex;
import static dev.matrixpolicy.gateway.matrix.glob.GlobReference.randomString;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GlobsTest {

    @Test
    void answersAsTheGlobsRegexDoes() {
        Random random = new Random(20261207);
        for (int i = 0; i < 5_000; i++) {
            String glob = randomString(random, "ab*?", 7);
            String input = randomString(random, "ab*?", 9);
            assertThat(Globs.matches(glob, input)).as("%s against %s", glob, input).isEqualTo(asRegex(glob).matcher(input).matches());
        }
    }

    @Test
    void aStarMatchesAnyRunIncludingNoneAndColons() {
        assertThat(Globs.matches("@*:evil.example", "@spammer:evil.example")).isTrue();
        assertThat(Globs.matches("*:evil.example", "@a:b:evil.example")).isTrue();
        assertThat(Globs.matches("@spam*", "@spam")).isTrue();
        assertThat(Globs.matches("@spam*", "@spa")).isFalse();
    }

    @Test
    void aQuestionMarkMatchesExactlyOneCodePoint() {
        assertThat(Globs.matches("@?:x", "@\uD83D\uDE00:x")).isTrue();
        assertThat(Globs.matches("@?:x", "@ab:x")).isFalse();
    }

    @Test
    void aStarStillMatchesWhenTheIdHoldsAStarItself() {
        assertThat(Globs.matches("@*:evil.example", "@*x:evil.example")).isTrue();
        assertThat(Globs.matches("*x", "*ax")).isTrue();
        assertThat(Globs.matches("#*spam*:evil.example", "#*free-spam*:evil.example")).isTrue();
    }
}
