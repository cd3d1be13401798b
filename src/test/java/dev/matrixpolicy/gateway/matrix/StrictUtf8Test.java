package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** UTF-8 as RFC 3629 defines it: what the JDK writes passes, every other form is found where it starts. */
class StrictUtf8Test {

    @ParameterizedTest
    @ValueSource(strings = {"", "{\"user\": \"@alice:example.com\"}", "é", "€ ☃", "😀 at the end 😀", "a long run of ascii, then ü"})
    void textTheJdkWritesIsWellFormed(String text) {
        assertThat(StrictUtf8.firstInvalid(text.getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0} at {1}")
    @CsvSource({
            "'40626f74c0ba', 4",          // an overlong ':' in two bytes
            "'e080ba', 0",                // an overlong ':' in three bytes
            "'f08080ba', 0",              // and in four
            "'f4908080', 0",              // past U+10FFFF
            "'eda080', 0",                // a surrogate, U+D800
            "'41ff', 1",                  // never a UTF-8 byte
            "'4142434445464748bf', 8",    // a continuation byte with no lead, after a word of ASCII
            "'4142c3', 2",                // a sequence cut short
            "'e282', 0",                  // and another
            "'c328', 0"                   // a lead byte followed by no continuation
    })
    void everyIllFormedSequenceIsFoundWhereItStarts(String hex, int offset) {
        assertThat(StrictUtf8.firstInvalid(HexFormat.of().parseHex(hex))).isEqualTo(offset);
    }
}
