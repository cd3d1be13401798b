package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Normaliser} normalises only the pieces of a text that Unicode normalisation may change, and
 * folds ASCII by a table: pinned here to the plain definition (the whole text through
 * {@link Normalizer}, then every code point through the checks), over every character and over
 * random texts of look-alikes, hidden characters, marks, compatibility forms and emoji.
 */
class NormaliserEquivalenceTest {

    /**
     * The definition: each letter of a styled alphabet made its plain letter (step 0), the text made
     * stream-safe (a combining grapheme joiner after every 30 marks in a row, UAX #15), step 1 on the
     * whole of it, then steps 2 to 5 code point by code point.
     */
    static String byDefinition(Normaliser normaliser, boolean diacritics, String original) {
        StringBuilder streamSafe = new StringBuilder();
        int run = 0;
        for (int codePoint : original.codePoints().map(Normaliser::unstyled).toArray()) {
            int type = Character.getType(codePoint);
            boolean mark = type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK || type == Character.ENCLOSING_MARK;
            run = mark ? run + 1 : 0;
            if (run > 30) {
                streamSafe.append('\u034F');
                run = 1;
            }
            streamSafe.appendCodePoint(codePoint);
        }
        String text = streamSafe.toString();
        String unicode;
        if (!diacritics) {
            unicode = Normalizer.normalize(text, Normalizer.Form.NFKC);
        } else {
            String decomposed = Normalizer.normalize(text, Normalizer.Form.NFKD);
            StringBuilder bare = new StringBuilder();
            decomposed.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK || cp == 0x034F)
                    .forEach(bare::appendCodePoint);
            unicode = Normalizer.normalize(bare, Normalizer.Form.NFC);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < unicode.length(); ) {
            int codePoint = unicode.codePointAt(i);
            i += Character.charCount(codePoint);
            if (Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint)) {
                if (!out.isEmpty() && out.charAt(out.length() - 1) != ' ') {
                    out.append(' ');
                }
            } else if (Character.getType(codePoint) != Character.FORMAT && Character.getType(codePoint) != Character.ENCLOSING_MARK
                    && !Character.isISOControl(codePoint)
                    && codePoint != 0x034F && !(codePoint >= 0xFE00 && codePoint <= 0xFE0F) && !(codePoint >= 0xE0000 && codePoint <= 0xE0FFF)
                    && !(codePoint >= 0x2060 && codePoint <= 0x206F) && !(codePoint >= 0xFFF0 && codePoint <= 0xFFF8)
                    && !(codePoint >= 0x180B && codePoint <= 0x180D) && codePoint != 0x180F && codePoint != 0x17B4 && codePoint != 0x17B5
                    && codePoint != 0x115F && codePoint != 0x1160 && codePoint != 0x3164 && codePoint != 0xFFA0 && codePoint != 0x2800) {
                out.appendCodePoint(normaliser.fold(codePoint));
            }
        }
        return out.toString().endsWith(" ") ? out.substring(0, out.length() - 1) : out.toString();
    }

    /** Characters that normalisation treats in every way it can, and ones it leaves alone. */
    private static final String[] ALPHABET = {
            "a", "e", "o", "z", "E", "Z", "0", "1", "3", " ", "  ", "\t", "\n", "\u0000", "\u007F", ".", "@", ":", "/", "<", "=", "-",
            // look-alikes: Cyrillic, Greek, Armenian, Latin
            "\u0430", "\u0435", "\u043E", "\u0440", "\u0441", "\u0410", "\u0419", "\u0439", "\u0451", "\u0438", "\u03BF", "\u03B1",
            "\u039F", "\u03C2", "\u03F2", "\u03A3", "\u0585", "\u0131", "\u0130", "\u017F", "\u00DF", "\u1E9E", "\u0391", "\u0386",
            "\u0555", "\u054D", "\u04BA", "\u2C6D", "\uA7AC", "\u1C82", "\u1C83", "\u0393", "\u037F",
            // styled alphabets: small capitals, parenthesised, negative circled and squared, regional indicators
            "\uA730", "\u0280", "\u1D07", "\u0262", "\u24A1", "\u249C", "\uD83C\uDD55", "\uD83C\uDD75", "\uD83C\uDDEB", "\uD83C\uDDF7",
            // zero-width and other format characters, space-like characters
            "\u200B", "\u200C", "\u200D", "\u2060", "\u00AD", "\uFEFF", "\u202E", "\u034F", "\u00A0", "\u2003", "\u3000", "\u0085",
            "\u3164", "\uFFA0", "\u115F", "\u1160", "\u2800", "\uFE00", "\uFE0E", "\uDB40\uDD00", "\u180B", "\u180F", "\u17B4",
            "\u2065", "\uFFF0", "\uDB40\uDC00", "\uDB40\uDC80",
            // combining marks, in and out of canonical order, and mark-like starters
            "\u0301", "\u0308", "\u0300", "\u0327", "\u0323", "\u0345", "\u0338", "\u0306", "\u20DD", "\u093C", "\u0BBE", "\u0CD5",
            "\u3099", "\u309A", "\u0489", "\u20E3", "\u1ABE",
            // precomposed and decomposable letters
            "\u00E9", "\u00C7", "\u00FC", "\u00F1", "\u01D6", "\u1EC7", "\u212B", "\u2126", "\u00C5", "\u0D4A", "\u304B", "\u30AC",
            // compatibility forms: fullwidth, ligatures, circled, superscripts, fractions, mathematical letters
            "\uFF46", "\uFF32", "\uFF10", "\uFB01", "\u2460", "\u24D0", "\u00B2", "\u00BD", "\u2122", "\u3392", "\uFF61", "\uFF9E",
            "\uD835\uDC1F", "\uD835\uDD04", "\u2024", "\u3002",
            // Hangul syllables and jamo that compose
            "\uAC00", "\uAC01", "\u1100", "\u1161", "\u11A8", "\u3131",
            // other scripts
            "\u4E2D", "\u6587", "\u05D0", "\u0627", "\u0644", "\u0915", "\u0E01", "\u2014", "\u2019", "\u20AC",
            // emoji: plain, presentation selector, skin tone, ZWJ sequence, flag, keycap
            "\uD83D\uDE42", "\u2764\uFE0F", "\uD83D\uDC4D\uD83C\uDFFD", "\uD83D\uDC68\u200D\uD83D\uDCBB", "\uD83C\uDDE9\uD83C\uDDEA",
            "1\uFE0F\u20E3",
            // supplementary compositions, unpaired surrogates, noncharacters
            "\uD804\uDC99\uD804\uDCBA", "\uD804\uDCBA", "\uD800", "\uDC00", "\uFFFF", "\uFFFE", "\uFFFD",
    };

    @Test
    void everyCharacterAloneBetweenLettersAndBeforeAMarkIsNormalisedByDefinition() {
        for (Normaliser normaliser : List.of(new Normaliser(true, true, false), new Normaliser(false, false, true))) {
            boolean diacritics = normaliser.normalise("\u00E9").equals("e");
            List<String> different = new ArrayList<>();
            for (int c = 0; c <= 0xFFFF; c++) {
                String character = String.valueOf((char) c);
                String text = "e" + character + "\u0301" + character + "x" + character;
                if (!normaliser.normalise(text).equals(byDefinition(normaliser, diacritics, text))) {
                    different.add(Integer.toHexString(c));
                }
            }
            assertThat(different).isEmpty();
        }
    }

    @Test
    void randomTextsAreNormalisedByDefinitionWithEveryCombinationOfFolds() {
        SplittableRandom random = new SplittableRandom(16);
        for (int flags = 0; flags < 8; flags++) {
            boolean diacritics = (flags & 2) != 0;
            Normaliser normaliser = new Normaliser((flags & 1) != 0, diacritics, (flags & 4) != 0);
            for (int round = 0; round < 3000; round++) {
                StringBuilder text = new StringBuilder();
                int parts = random.nextInt(1, 40);
                for (int i = 0; i < parts; i++) {
                    text.append(ALPHABET[random.nextInt(ALPHABET.length)]);
                }
                String sample = text.toString();
                assertThat(normaliser.normalise(sample)).as("flags %d, text %s", flags, escaped(sample))
                        .isEqualTo(byDefinition(normaliser, diacritics, sample));
            }
        }
    }

    @Test
    void aLongRunOfMarksIsNormalisedStreamSafeAndItsLettersStillRead() {
        String marks = "\u0301\u0316\uD834\uDD65\uD834\uDD6D".repeat(4_000); // acute, grave below, musical stems: four classes
        for (Normaliser normaliser : List.of(new Normaliser(true, true, false), new Normaliser(false, false, false))) {
            boolean diacritics = normaliser.normalise("\u00E9").equals("e");
            String text = "air" + marks + "drop " + "a" + "\u0301".repeat(40);

            assertThat(normaliser.normalise(text)).isEqualTo(byDefinition(normaliser, diacritics, text));
        }
        assertThat(new Normaliser(true, true, false).normalise("air" + marks + "drop")).startsWith("air").endsWith("drop");
    }

    @Test
    void benchmarkLikeMessagesAreNormalisedByDefinition() {
        Normaliser normaliser = new Normaliser(true, true, false);
        for (String text : List.of(
                "Grüße @alice:example.org, die Notizen sind unter https://docs.example.com/notizen — bitte "
                        + "bis Freitag lesen. Ça va? Привет всем, до встречи 🙂 ",
                "Hi @alice:example.org, the meeting notes are at https://docs.example.com/notes/2026.",
                "ｆｒｅｅ 𝐛𝐢𝐭𝐜𝐨𝐢𝐧 frée \u0440\u0430ypal fr\u200Be\u00ADe \u03F2asino  buy \t\n  now  ",
                "\u0301leading mark, trailing mark e\u0301", "", " ", "\u200B")) {
            assertThat(normaliser.normalise(text)).isEqualTo(byDefinition(normaliser, true, text));
        }
    }

    private static String escaped(String text) {
        StringBuilder out = new StringBuilder();
        text.chars().forEach(c -> out.append(c < 0x80 && c >= 0x20 ? String.valueOf((char) c) : String.format("\\u%04X", c)));
        return out.toString();
    }

    /** The one table of what a character is answers for invisibility too: no white space is also invisible. */
    @Test
    void everyCharacterIsInvisibleByTheTableExactlyWhenItIsByDefinition() {
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (Normaliser.isInvisible(c) != Normaliser.isInvisibleByDefinition(c)) {
                throw new AssertionError(String.format("U+%04X", c));
            }
        }
    }
}
