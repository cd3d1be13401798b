package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GlobsTest {

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
