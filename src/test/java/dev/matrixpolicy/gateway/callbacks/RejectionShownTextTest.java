package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Text written outside the gateway, as a user is shown it in a refusal. */
class RejectionShownTextTest {

    @Test
    void bidirectionalOverridesAndControlCharactersAreDroppedAndLineBreaksBecomeSpaces() {
        assertThat(Rejection.shownText("spam \u202Etxt.exe\u202C from \u2067@bot:example.org\u2069\u0000\u001B[31m\r\nnext", 100))
                .isEqualTo("spam txt.exe from @bot:example.org[31m  next");
    }

    @Test
    void aLongTextIsCutAtItsLimitWithAnEllipsisNeverInsideACharacter() {
        assertThat(Rejection.shownText("abcdef", 6)).isEqualTo("abcdef");
        assertThat(Rejection.shownText("abcdefg", 6)).isEqualTo("abcdef…");
        assertThat(Rejection.shownText("abcde😀", 6)).isEqualTo("abcde…");
        assertThat(Rejection.shownText("abcdef\u200F\u202E", 6)).as("only dropped characters past the limit").isEqualTo("abcdef");
    }

    @Test
    void aLoneHalfOfACharacterBecomesTheReplacementCharacterSoTheTextIsValidUtf8() {
        String text = Rejection.shownText("bad \uD800 pair \uDC00 end\uD83D", 100);

        assertThat(text).isEqualTo("bad \uFFFD pair \uFFFD end\uFFFD");
        assertThat(new String(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(text);
        assertThat(Rejection.shownText("ok \uD83D\uDE00", 100)).as("a whole pair is kept").isEqualTo("ok \uD83D\uDE00");
    }
}
