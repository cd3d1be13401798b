package dev.matrixpolicy.gateway.modules.contentrules;

import java.text.Normalizer;

/**
 * What text and patterns are compared as, so that case, compatibility forms, accents, look-alike
 * letters and hidden characters do not slip a word past a rule. Applied alike to the text and to
 * keywords, phrases and domains, in this order:
 *
 * <ol>
 *   <li>Unicode NFKC: fullwidth, circled, mathematical and other compatibility forms become the
 *       plain letter ({@code ｆｒｅｅ}, {@code 𝐟𝐫𝐞𝐞} → {@code free}). With {@code fold-diacritics},
 *       NFKD instead, nonspacing marks dropped, then NFC ({@code frée} → {@code free}).</li>
 *   <li>Format characters (Unicode category Cf: zero-width space and joiners, soft hyphen, word
 *       joiner, byte order mark, bidirectional controls) and the combining grapheme joiner are
 *       removed; runs of white space and control characters become one space.</li>
 *   <li>With {@code fold-confusables}: {@link #CONFUSABLES}, Cyrillic, Greek, Armenian and Latin
 *       letters that look like a Latin letter become it ({@code рaypal} with a Cyrillic {@code р} →
 *       {@code paypal}).</li>
 *   <li>Case: each code point to the lower case of its upper case ({@code ß} stays, {@code ſ} →
 *       {@code s}, final {@code ς} → {@code σ}).</li>
 *   <li>With {@code fold-leet} (off by default): the digits {@code 0 1 3 4 5 7 8 9} become
 *       {@code o i e a s t b g}. It folds digits everywhere, in links and user IDs too.</li>
 * </ol>
 * Not folded: look-alikes outside the table (e.g. Cherokee, mathematical symbols that NFKC keeps),
 * letters split by spaces or punctuation ({@code f.r.e.e}), and homophones.
 *
 * <p>Pure ASCII text skips the Unicode normalisation, which leaves it unchanged. The work is one
 * or two passes over the text, linear in its length.
 */
final class Normaliser {

    /** Look-alike code points and the Latin letter each folds to, in pairs, sorted by code point. */
    static final int[][] CONFUSABLES = {
            {0x0131, 'i'}, {0x01C0, 'l'}, {0x0237, 'j'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x0269, 'i'},
            // Greek capitals, then small letters
            {0x0391, 'A'}, {0x0392, 'B'}, {0x0395, 'E'}, {0x0396, 'Z'}, {0x0397, 'H'}, {0x0399, 'I'}, {0x039A, 'K'},
            {0x039C, 'M'}, {0x039D, 'N'}, {0x039F, 'O'}, {0x03A1, 'P'}, {0x03A4, 'T'}, {0x03A5, 'Y'}, {0x03A7, 'X'},
            {0x03B1, 'a'}, {0x03B3, 'y'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'}, {0x03C1, 'p'},
            {0x03C2, 'c'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03F3, 'j'}, // NFKC has made the lunate sigma ϲ a final ς
            // Cyrillic capitals, small letters, then the supplement
            {0x0405, 'S'}, {0x0406, 'I'}, {0x0408, 'J'}, {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x041A, 'K'},
            {0x041C, 'M'}, {0x041D, 'H'}, {0x041E, 'O'}, {0x0420, 'P'}, {0x0421, 'C'}, {0x0422, 'T'}, {0x0423, 'Y'},
            {0x0425, 'X'}, {0x0430, 'a'}, {0x0435, 'e'}, {0x043A, 'k'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
            {0x0443, 'y'}, {0x0445, 'x'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0458, 'j'}, {0x04AE, 'Y'}, {0x04AF, 'y'},
            {0x04BB, 'h'}, {0x04C0, 'l'}, {0x04CF, 'l'}, {0x0500, 'D'}, {0x0501, 'd'}, {0x051A, 'Q'}, {0x051B, 'q'},
            {0x051C, 'W'}, {0x051D, 'w'},
            // Armenian small letters
            {0x0570, 'h'}, {0x0578, 'n'}, {0x057D, 'u'}, {0x0585, 'o'},
    };
    private static final int[] CONFUSABLE_FROM = new int[CONFUSABLES.length];
    private static final char[] CONFUSABLE_TO = new char[CONFUSABLES.length];

    static {
        for (int i = 0; i < CONFUSABLES.length; i++) {
            CONFUSABLE_FROM[i] = CONFUSABLES[i][0];
            CONFUSABLE_TO[i] = (char) CONFUSABLES[i][1];
            if (i > 0 && CONFUSABLE_FROM[i] <= CONFUSABLE_FROM[i - 1]) {
                throw new ExceptionInInitializerError("CONFUSABLES must be sorted: " + Integer.toHexString(CONFUSABLE_FROM[i]));
            }
        }
    }

    private static final String LEET_FROM = "01345789";
    private static final String LEET_TO = "oieastbg";
    private static final int COMBINING_GRAPHEME_JOINER = 0x034F;

    private final boolean confusables;
    private final boolean diacritics;
    private final boolean leet;

    Normaliser(boolean confusables, boolean diacritics, boolean leet) {
        this.confusables = confusables;
        this.diacritics = diacritics;
        this.leet = leet;
    }

    /** The normal form of a text, without leading or trailing space. */
    String normalise(CharSequence text) {
        String unicode = unicodeForm(text);
        StringBuilder out = new StringBuilder(unicode.length());
        for (int i = 0, length = unicode.length(); i < length; ) {
            int codePoint = unicode.codePointAt(i);
            i += Character.charCount(codePoint);
            if (Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint) || Character.isISOControl(codePoint)) {
                if (!out.isEmpty() && out.charAt(out.length() - 1) != ' ') {
                    out.append(' ');
                }
                continue;
            }
            if (Character.getType(codePoint) == Character.FORMAT || codePoint == COMBINING_GRAPHEME_JOINER) {
                continue;
            }
            out.appendCodePoint(fold(codePoint));
        }
        int end = out.length();
        if (end > 0 && out.charAt(end - 1) == ' ') {
            out.setLength(end - 1);
        }
        return out.toString();
    }

    /** One code point's fold: look-alike, case, then leet; the rest of {@link #normalise} is about sequences. */
    int fold(int codePoint) {
        int folded = codePoint;
        if (confusables && folded >= CONFUSABLE_FROM[0]) {
            int at = java.util.Arrays.binarySearch(CONFUSABLE_FROM, folded);
            if (at >= 0) {
                folded = CONFUSABLE_TO[at];
            }
        }
        folded = Character.toLowerCase(Character.toUpperCase(folded));
        if (leet && folded >= '0' && folded <= '9') {
            int at = LEET_FROM.indexOf(folded);
            if (at >= 0) {
                folded = LEET_TO.charAt(at);
            }
        }
        return folded;
    }

    private String unicodeForm(CharSequence text) {
        String plain = text.toString();
        if (isAscii(plain)) {
            return plain;
        }
        if (!diacritics) {
            return Normalizer.normalize(plain, Normalizer.Form.NFKC);
        }
        String decomposed = Normalizer.normalize(plain, Normalizer.Form.NFKD);
        StringBuilder bare = new StringBuilder(decomposed.length());
        for (int i = 0, length = decomposed.length(); i < length; ) {
            int codePoint = decomposed.codePointAt(i);
            i += Character.charCount(codePoint);
            if (Character.getType(codePoint) != Character.NON_SPACING_MARK) {
                bare.appendCodePoint(codePoint);
            }
        }
        return Normalizer.normalize(bare, Normalizer.Form.NFC);
    }

    private static boolean isAscii(String text) {
        for (int i = 0, length = text.length(); i < length; i++) {
            if (text.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}
