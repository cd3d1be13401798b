package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {
    @Test
    void plainTextIsOnlyQuoted() {
        assertThat(LogText.quoted("crypto spam")).isEqualTo("\"crypto spam\"");
        assertThat(LogText.quoted("")).isEqualTo("\"\"");
    }

    @Test
    void nothingInTheTextCanEndTheLineOrReachTheTerminal() {
        assertThat(LogText.quoted("spam\n2026-12-03 INFO forged")).isEqualTo("\"spam\\u000A2026-12-03 INFO forged\"");
        assertThat(LogText.quoted("a\rb\tc")).isEqualTo("\"a\\u000Db\\u0009c\"");
        assertThat(LogText.quoted("\u001b[31mred")).isEqualTo("\"\\u001B[31mred\"");
        assertThat(LogText.quoted("next\u0085line\u2028separator\u2029paragraph\u007f"))
                .isEqualTo("\"next\\u0085line\\u2028separator\\u2029paragraph\\u007F\"");
    }

    @Test
    void noBidirectionalOverrideCanReverseTheRestOfTheLine() {
        assertThat(LogText.quoted("@evil\u202Egro.elpmaxe:moc\u2066x\u2069\u200F"))
                .isEqualTo("\"@evil\\u202Egro.elpmaxe:moc\\u2066x\\u2069\\u200F\"");
        assertThat(LogText.quoted("\u0645\u0631\u062D\u0628\u0627")).as("right-to-left letters stay").isEqualTo("\"\u0645\u0631\u062D\u0628\u0627\"");
    }

    @Test
    void quotesAndBackslashesAreEscapedSoTheQuotedTextEndsWhereItSeemsTo() {
        assertThat(LogText.quoted("say \"hi\" \\o/")).isEqualTo("\"say \\\"hi\\\" \\\\o/\"");
    }

    @Test
    void lettersOfEveryScriptStayAsTheyAre() {
        assertThat(LogText.quoted("спам 垃圾 😀")).isEqualTo("\"спам 垃圾 😀\"");
    }

    @Test
    void escapedIsTheSameWithoutTheQuotes() {
        assertThat(LogText.escaped("bna\u2028forged")).isEqualTo("bna\\u2028forged");
        assertThat(LogText.escaped("y".repeat(250))).isEqualTo("y".repeat(LogText.LONGEST) + "... (250 characters)");
    }

    @Test
    void aLongTextIsCutAndSaysHowLongItWas() {
        String quoted = LogText.quoted("x".repeat(300_000));

        assertThat(quoted).isEqualTo("\"" + "x".repeat(LogText.LONGEST) + "\"... (300000 characters)");
    }

    @Test
    void aCutNeverSplitsACharacterInTwo() {
        String text = "x".repeat(LogText.LONGEST - 1) + "😀" + "tail";

        assertThat(LogText.quoted(text)).startsWith("\"" + "x".repeat(LogText.LONGEST - 1) + "\"...");
    }

    @Test
    void aMessageHasItsControlsEscapedAndIsCutButTextEscapedOnceReadsTheSame() {
        String forged = "backend said: ok\n2026-12-05T00:00:00Z  INFO forged line \u001b[31m";
        String builtIn = "backend said " + LogText.quoted("ok\n\"x\"");

        assertThat(LogText.message(forged)).isEqualTo("backend said: ok\\u000A2026-12-05T00:00:00Z  INFO forged line \\u001B[31m");
        assertThat(LogText.message(builtIn)).isEqualTo(builtIn).isEqualTo("backend said \"ok\\u000A\\\"x\\\"\"");
        assertThat(LogText.message("x".repeat(500))).isEqualTo("x".repeat(200) + "... (500 characters)");
    }
}
