package dev.matrixpolicy.gateway.modules.contentrules;

import java.text.Normalizer;

/**
 * What text and patterns are compared as, so that case, compatibility forms, accents, look-alike
 * letters and hidden characters do not slip a word past a rule. Applied alike to the text and to
 * keywords, phrases and domains, in this order (step 0 first: the styled alphabets that step 1
 * leaves alone or breaks up become the plain letter, see {@link #unstyled}):
 *
 * <ol>
 *   <li>Unicode NFKC: fullwidth, circled, mathematical and other compatibility forms become the
 *       plain letter ({@code ｆｒｅｅ}, {@code 𝐟𝐫𝐞𝐞} → {@code free}). With {@code fold-diacritics},
 *       NFKD instead, nonspacing marks dropped, then NFC ({@code frée} → {@code free}).</li>
 *   <li>What {@link #isInvisible} names is removed, with {@code fold-diacritics} or without (controls
 *       other than white space, format characters, the combining grapheme joiner, variation selectors,
 *       enclosing marks...); runs of white space become one space.</li>
 *   <li>With {@code fold-confusables}: {@link #CONFUSABLES}, Cyrillic, Greek, Armenian and Latin
 *       letters that look like a Latin letter become it ({@code рaypal} with a Cyrillic {@code р} →
 *       {@code paypal}); the capitals among them are in the table themselves.</li>
 *   <li>Case: each code point to the lower case of its upper case ({@code ß} stays, {@code ſ} →
 *       {@code s}, final {@code ς} → {@code σ}).</li>
 *   <li>With {@code fold-leet} (off by default): the digits {@code 0 1 3 4 5 7 8 9} become
 *       {@code o i e a s t b g}. It folds the text's digits; links and mentions are read in the
 *       text with its digits as written ({@link #withDigitsAsWritten}), their hosts folded after.</li>
 * </ol>
 * Not folded: look-alikes outside the table (e.g. Cherokee, mathematical symbols that NFKC keeps),
 * parenthesised digits ({@code ⑴} is {@code (1)}), letters split by spaces or punctuation
 * ({@code f.r.e.e}), and homophones.
 *
 * <p>Step 1 leaves ASCII and most letters of most scripts alone; only the pieces of a text around
 * the other characters (accented letters, compatibility forms, marks, emoji...) go through
 * {@link Normalizer}, in one call, and the rest is folded straight away, ASCII by a table. The work
 * is linear in the length of the text.
 */
final class Normaliser {

    /**
     * Look-alike code points and the Latin letter each folds to, in pairs, sorted by code point. It
     * is read before the case is folded, so a capital folds only if it is here itself: folding every
     * capital whose small letter is here would be wrong for those that do not look like it (Greek
     * {@code Γ} is no y, though its {@code γ} is).
     */
    static final int[][] CONFUSABLES = {
            {0x0131, 'i'}, {0x0196, 'I'}, {0x01C0, 'l'}, {0x0237, 'j'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x0269, 'i'},
            // Greek capitals, then small letters
            {0x037F, 'J'}, {0x0391, 'A'}, {0x0392, 'B'}, {0x0395, 'E'}, {0x0396, 'Z'}, {0x0397, 'H'}, {0x0399, 'I'}, {0x039A, 'K'},
            {0x039C, 'M'}, {0x039D, 'N'}, {0x039F, 'O'}, {0x03A1, 'P'}, {0x03A4, 'T'}, {0x03A5, 'Y'}, {0x03A7, 'X'},
            {0x03B1, 'a'}, {0x03B3, 'y'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'}, {0x03C1, 'p'},
            {0x03C2, 'c'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03F3, 'j'}, // NFKC has made the lunate sigma ϲ a final ς
            // Cyrillic capitals, small letters, then the supplement
            {0x0405, 'S'}, {0x0406, 'I'}, {0x0408, 'J'}, {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x041A, 'K'},
            {0x041C, 'M'}, {0x041D, 'H'}, {0x041E, 'O'}, {0x0420, 'P'}, {0x0421, 'C'}, {0x0422, 'T'}, {0x0423, 'Y'},
            {0x0425, 'X'}, {0x0430, 'a'}, {0x0435, 'e'}, {0x043A, 'k'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
            {0x0443, 'y'}, {0x0445, 'x'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0458, 'j'}, {0x04AE, 'Y'}, {0x04AF, 'y'},
            {0x04BA, 'H'}, {0x04BB, 'h'}, {0x04C0, 'l'}, {0x04CF, 'l'}, {0x0500, 'D'}, {0x0501, 'd'}, {0x051A, 'Q'}, {0x051B, 'q'},
            {0x051C, 'W'}, {0x051D, 'w'},
            // Armenian capitals, then small letters
            {0x054D, 'U'}, {0x0555, 'O'}, {0x0570, 'h'}, {0x0578, 'n'}, {0x057D, 'u'}, {0x0585, 'o'},
            // Cyrillic small letter variants; Latin capitals of the small letters above
            {0x1C82, 'o'}, {0x1C83, 'c'}, {0x2C6D, 'A'}, {0xA7AC, 'G'},
    };
    private static final Letters CONFUSABLE_LETTERS = Letters.of(CONFUSABLES);

    /**
     * The Latin small capitals ({@code ꜰʀᴇᴇ}), which Unicode normalisation leaves alone, and the letter
     * each is, in pairs, sorted by code point. No x or q: styled text writes {@code x} and the
     * letter {@code ǫ}, which stays an o with ogonek.
     */
    private static final int[][] SMALL_CAPITALS = {
            {0x0262, 'g'}, {0x026A, 'i'}, {0x0274, 'n'}, {0x0280, 'r'}, {0x028F, 'y'}, {0x0299, 'b'}, {0x029C, 'h'},
            {0x029F, 'l'}, {0x1D00, 'a'}, {0x1D04, 'c'}, {0x1D05, 'd'}, {0x1D07, 'e'}, {0x1D0A, 'j'}, {0x1D0B, 'k'},
            {0x1D0D, 'm'}, {0x1D0F, 'o'}, {0x1D18, 'p'}, {0x1D1B, 't'}, {0x1D1C, 'u'}, {0x1D20, 'v'}, {0x1D21, 'w'},
            {0x1D22, 'z'}, {0xA730, 'f'}, {0xA731, 's'},
    };

    private static final Letters SMALL_CAPITAL_LETTERS = Letters.of(SMALL_CAPITALS);

    /**
     * The first code point of each styled A-to-Z alphabet that Unicode normalisation leaves alone or
     * breaks up: parenthesised, negative circled and negative squared letters, regional indicators.
     */
    private static final int[] STYLED_ALPHABETS = {0x249C, 0x1F150, 0x1F170, 0x1F1E6};

    /**
     * Step 0: the small letter that a letter of a styled alphabet is, or the code point itself. The
     * alphabets are the ones Unicode normalisation does not make plain: small capitals, negative
     * circled and squared letters, regional indicators (so a flag reads as its country code), and the
     * parenthesised letters, which NFKC would make {@code (f)}.
     */
    static int unstyled(int codePoint) {
        if (codePoint < SMALL_CAPITALS[0][0]) {
            return codePoint;
        }
        for (int a : STYLED_ALPHABETS) {
            if (codePoint >= a && codePoint < a + 26) {
                return 'a' + codePoint - a;
            }
        }
        return SMALL_CAPITAL_LETTERS.letterOr(codePoint);
    }

    /** A table of code points and the Latin letter each folds to, looked up by binary search. */
    private record Letters(int[] from, char[] to) {
        static Letters of(int[][] pairs) {
            int[] from = new int[pairs.length];
            char[] to = new char[pairs.length];
            for (int i = 0; i < pairs.length; i++) {
                from[i] = pairs[i][0];
                to[i] = (char) pairs[i][1];
                if (i > 0 && from[i] <= from[i - 1]) {
                    throw new ExceptionInInitializerError("letter tables must be sorted: " + Integer.toHexString(from[i]));
                }
            }
            return new Letters(from, to);
        }

        /** The letter a code point folds to, or the code point itself. */
        int letterOr(int codePoint) {
            if (codePoint < from[0]) {
                return codePoint;
            }
            int at = java.util.Arrays.binarySearch(from, codePoint);
            return at >= 0 ? to[at] : codePoint;
        }
    }

    private static final String LEET_FROM = "01345789";
    private static final String LEET_TO = "oieastbg";
    private static final int COMBINING_GRAPHEME_JOINER = 0x034F;
    /** What normalisation makes a space: white space (tabs and line breaks too) or a space separator (no-break ones too). */
    static boolean isSpace(int codePoint) {
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint);
    }

    /**
     * Whether a character renders as nothing, or only as a frame around the letter before it, and is
     * dropped: the controls that are no white space ({@code ca\u0007sino} shows as {@code casino}),
     * the format characters (zero-width space and joiners, soft hyphen, bidirectional
     * controls, tags...), the combining grapheme joiner, the variation selectors (standard, of
     * ideographs, Mongolian) and Khmer's inherent vowels, which are marks that show nothing; the
     * enclosing marks ({@code f⃝r⃝e⃝e⃝}, {@code f҉r҉e҉e҉}); and the letters that show blank though no
     * format character: the Hangul fillers and the blank braille pattern, which spam puts between the
     * letters of a word. The BMP by the table of {@link #kind} (no white space is also invisible):
     * gathering the text asks this of every character outside ASCII.
     */
    static boolean isInvisible(int codePoint) {
        return kind(codePoint) == INVISIBLE;
    }

    static boolean isInvisibleByDefinition(int codePoint) {
        int type = Character.getType(codePoint);
        return type == Character.FORMAT || type == Character.ENCLOSING_MARK || type == Character.CONTROL && !isSpace(codePoint)
                || codePoint == COMBINING_GRAPHEME_JOINER
                || codePoint >= 0xFE00 && codePoint <= 0xFE0F
                // Unicode's default ignorable code points reserved for later (U+2065 among the invisible operators,
                // U+FFF0-U+FFF8, the plane-14 ones about the tags and the ideographic variation selectors): the JDK
                // knows them as unassigned, but browsers (HarfBuzz) show them as nothing, as Unicode asks
                || codePoint >= 0x2060 && codePoint <= 0x206F || codePoint >= 0xFFF0 && codePoint <= 0xFFF8
                || codePoint >= 0xE0000 && codePoint <= 0xE0FFF
                || codePoint >= 0x180B && codePoint <= 0x180D || codePoint == 0x180F || codePoint == 0x17B4 || codePoint == 0x17B5
                || codePoint == 0x115F || codePoint == 0x1160 || codePoint == 0x3164 || codePoint == 0xFFA0 || codePoint == 0x2800;
    }

    /** What a character is to the text gathered ({@link #kind}): shown, white space, invisible, or a nonspacing mark. */
    static final byte SHOWN = 0;
    static final byte SPACE = 1;
    static final byte INVISIBLE = 2;
    static final byte MARK = 3;

    /**
     * What a character is to the text gathered, in one look-up for the BMP (gathering the text asks it
     * of every character outside ASCII): {@link #SPACE} as {@link #isSpace} says; else
     * {@link #INVISIBLE} as {@link #isInvisible} says; else {@link #MARK} for a nonspacing mark, which
     * shows on the letter before it; else {@link #SHOWN}.
     */
    static byte kind(int codePoint) {
        return codePoint < 0x10000 ? KIND_BMP[codePoint] : kindByDefinition(codePoint);
    }

    private static final byte[] KIND_BMP = kindBmp();

    private static byte[] kindBmp() {
        byte[] kinds = new byte[0x10000];
        for (int c = 0; c < kinds.length; c++) {
            kinds[c] = kindByDefinition(c);
        }
        return kinds;
    }

    private static byte kindByDefinition(int codePoint) {
        return isSpace(codePoint) ? SPACE : isInvisibleByDefinition(codePoint) ? INVISIBLE
                : Character.getType(codePoint) == Character.NON_SPACING_MARK ? MARK : SHOWN;
    }

    /** Stream-safe text's longest run of combining marks (UAX #15 counts non-starters; every mark is counted here). */
    static final int LONGEST_MARK_RUN = 30;

    private final boolean confusables;
    private final boolean diacritics;
    private final boolean leet;
    /** This normaliser without {@code fold-leet} (itself when it has none). */
    private final Normaliser digitsAsWritten;
    /** {@link #BMP}, or {@link #BMP_CONFUSABLES} when look-alikes are folded. */
    private final char[] bmp;
    /** What each ASCII character becomes: a space for white space, {@link #DROPPED} for a control, else its {@link #fold}. */
    private final char[] ascii = new char[0x80];

    /**
     * Whether this normaliser folds digits ({@code fold-leet}): the only folding that changes a user
     * ID, whose localpart is ASCII by the spec's grammar, so that look-alikes and diacritics, all
     * outside ASCII, leave it alone.
     */
    boolean foldsDigits() {
        return leet;
    }

    /**
     * This normaliser without {@code fold-leet}: links and mentions are read in the text it writes,
     * since a price or a version folded ({@code 9.99} to {@code g.gg}) would read as a link to a real
     * domain, and {@code @b0b:x.org} as the user {@code @bob:x.org}.
     */
    Normaliser withDigitsAsWritten() {
        return digitsAsWritten;
    }

    Normaliser(boolean confusables, boolean diacritics, boolean leet) {
        this.confusables = confusables;
        this.diacritics = diacritics;
        this.leet = leet;
        this.digitsAsWritten = leet ? new Normaliser(confusables, diacritics, false) : this;
        this.bmp = confusables ? BMP_CONFUSABLES : BMP;
        for (char c = 0; c < 0x80; c++) {
            ascii[c] = isSpace(c) ? ' ' : isInvisible(c) ? DROPPED : (char) fold(c);
        }
    }

    /** The normal form of a text, without leading or trailing space. */
    String normalise(CharSequence text) {
        int length = text.length();
        char[] chars = new char[length];
        text.getChars(0, length, chars, 0); // one copy, which the ASCII pass folds in place
        Output out = new Output(chars);
        int done = out.asciiPrefix(length, ascii);
        if (done == length) {
            return out.text();
        }
        String plain = text.toString();
        int unicodeFrom = firstNeedingUnicodeForm(plain, done);
        if (unicodeFrom < 0) {
            fold(plain, done, plain.length(), out);
        } else {
            foldPiecewise(plain, done, unicodeFrom, out);
        }
        return out.text();
    }

    /**
     * Steps 2 to 5 over {@code text[from, to)}, already in its Unicode form: appends to {@code out}.
     * ASCII characters take the {@link #ascii} table, the others the {@link #bmp} one; only what no
     * table folds to one character (surrogate pairs, special case mappings) is looked at the plain way.
     */
    private void fold(String text, int from, int to, Output out) {
        char[] chars = out.reserve(to - from); // a character folded by a table yields at most one
        int length = out.length;
        for (int i = from; i < to; ) {
            char c = text.charAt(i);
            char folded = c < 0x80 ? ascii[c] : bmp[c];
            if (folded == OTHER) {
                int codePoint = text.codePointAt(i);
                i += Character.charCount(codePoint);
                out.length = length;
                foldOther(codePoint, out);
                chars = out.reserve(to - i);
                length = out.length;
                continue;
            }
            i++;
            if (folded != ' ') {
                if (folded != DROPPED) {
                    chars[length++] = folded;
                }
            } else if (length > 0 && chars[length - 1] != ' ') {
                chars[length++] = ' ';
            }
        }
        out.length = length;
    }

    /** Steps 2 to 5 on one code point, the plain way. */
    private void foldOther(int codePoint, Output out) {
        if (isSpace(codePoint)) {
            out.space();
        } else if (!isInvisible(codePoint)) {
            out.append(fold(codePoint));
        }
    }

    /** The normalised text as it grows; one per call. */
    private static final class Output {
        private char[] chars;
        private int length;

        /** An output that starts as the text's own characters, which {@link #asciiPrefix} folds in place. */
        Output(char[] text) {
            chars = text.length == 0 ? new char[16] : text;
        }

        /**
         * Steps 2 to 5 over the ASCII start of the text the output starts as (the whole of most texts),
         * in place, in one tight loop: each character by the table, runs of spaces collapsed. Stops
         * before the last ASCII character ahead of another one, which a combining mark after it may
         * join. Answers where it stopped; what follows is to be read from the text itself.
         *
         * @param end the text's length
         */
        int asciiPrefix(int end, char[] table) {
            char[] text = chars;
            int written = 0;
            int i = 0;
            char c = end > 0 ? text[0] : 0;
            for (; i < end; i++) {
                char next = i + 1 < end ? text[i + 1] : 0;
                if (c >= 0x80 || next >= 0x80) {
                    break;
                }
                char folded = table[c];
                if (folded != ' ') {
                    if (folded != DROPPED) {
                        text[written++] = folded;
                    }
                } else if (written > 0 && text[written - 1] != ' ') {
                    text[written++] = ' ';
                }
                c = next;
            }
            length = written;
            return i;
        }

        /** Room for {@code more} characters: the array to write them into, from {@code length} on. */
        char[] reserve(int more) {
            if (length + more > chars.length) {
                chars = java.util.Arrays.copyOf(chars, Math.max(length + more, chars.length * 2));
            }
            return chars;
        }

        void append(char c) {
            if (length == chars.length) {
                chars = java.util.Arrays.copyOf(chars, length * 2);
            }
            chars[length++] = c;
        }

        void append(int codePoint) {
            if (Character.isBmpCodePoint(codePoint)) {
                append((char) codePoint);
            } else {
                append(Character.highSurrogate(codePoint));
                append(Character.lowSurrogate(codePoint));
            }
        }

        /** A space, unless at the start or after another. */
        void space() {
            if (length > 0 && chars[length - 1] != ' ') {
                append(' ');
            }
        }

        /** Without a trailing space. */
        String text() {
            return new String(chars, 0, length > 0 && chars[length - 1] == ' ' ? length - 1 : length);
        }
    }

    /** In {@link #BMP} and the ASCII table: what shows as nothing ({@link #isInvisible}), which step 2 removes. */
    private static final char DROPPED = '\uD800';
    /** In {@link #BMP}: a character to fold the plain way ({@link #foldOther}). */
    private static final char OTHER = '\uD801';
    /**
     * What steps 2 and 4 make of each UTF-16 character outside ASCII, without look-alikes and leet:
     * a space for white space, {@link #DROPPED} for what shows as nothing, the case fold, or {@link #OTHER} where
     * that is not one character, and for surrogates: their code point is folded whole.
     */
    private static final char[] BMP = bmpFolds();
    /** {@link #BMP} with each of {@link #CONFUSABLES} folded to its Latin letter, then its case. */
    private static final char[] BMP_CONFUSABLES = confusableFolds();

    private static char[] confusableFolds() {
        char[] folds = BMP.clone();
        for (int[] confusable : CONFUSABLES) {
            folds[confusable[0]] = (char) Character.toLowerCase(Character.toUpperCase(confusable[1]));
        }
        return folds;
    }

    private static char[] bmpFolds() {
        char[] folds = new char[0x10000];
        for (int c = 0; c < 0x10000; c++) {
            if (Character.isSurrogate((char) c)) {
                folds[c] = OTHER;
            } else if (isSpace(c)) {
                folds[c] = ' ';
            } else if (isInvisible(c)) {
                folds[c] = DROPPED;
            } else {
                int folded = Character.toLowerCase(Character.toUpperCase(unstyled(c)));
                folds[c] = folded == ' ' || !Character.isBmpCodePoint(folded) || Character.isSurrogate((char) folded)
                        ? OTHER : (char) folded;
            }
        }
        return folds;
    }

    /**
     * Text where Unicode normalisation may change something, from {@code first} on, its start up to
     * {@code done} already folded: only the pieces around the characters it may change go through
     * {@link Normalizer}, all of them in one call.
     *
     * <p>Every ASCII character and every {@linkplain #INERT inert} one is a normalisation boundary
     * (a starter that does not combine with what precedes it, and has no decomposition), so the Unicode
     * form of the text is the concatenation of the Unicode forms of pieces cut before such
     * characters. A piece is a run of other characters together with the character just before it,
     * which a combining mark may attach to; the rest is its own Unicode form. The pieces are joined by
     * {@link #PIECE_END}, itself inert, which therefore never occurs inside a piece (a piece does not
     * take one before it: nothing combines with it) and comes out of normalisation alone and unchanged.
     */
    private void foldPiecewise(String text, int done, int first, Output out) {
        int length = text.length();
        int[] bounds = new int[8];
        int count = 0;
        StringBuilder pieces = new StringBuilder();
        for (int i = first; i < length; ) {
            if (!needsUnicodeForm(text.charAt(i))) {
                i++;
                continue;
            }
            int start = i == 0 || text.charAt(i - 1) == PIECE_END ? i : i - 1; // U+FFFF: begins no composition
            int end = i + 1;
            while (end < length && needsUnicodeForm(text.charAt(end))) {
                end++;
            }
            if (count + 2 > bounds.length) {
                bounds = java.util.Arrays.copyOf(bounds, bounds.length * 2);
            }
            bounds[count++] = start;
            bounds[count++] = end;
            appendStreamSafe(pieces, text, start, end);
            pieces.append(PIECE_END);
            i = end; // inert, or the end: it may only be the character before the next piece
        }
        String unicode = unicodeForm(pieces.toString());
        int at = 0;
        for (int p = 0; p < count; p += 2) {
            fold(text, done, bounds[p], out);
            int pieceEnd = unicode.indexOf(PIECE_END, at);
            fold(unicode, at, pieceEnd, out);
            at = pieceEnd + 1;
            done = bounds[p + 1];
        }
        fold(text, done, length, out);
    }

    /**
     * Appends {@code text[start, end)} {@linkplain #unstyled unstyled} (step 0, before NFKC would make
     * {@code ⒡} {@code (f)}) and in Unicode's stream-safe form (UAX #15): a combining grapheme
     * joiner after each {@value #LONGEST_MARK_RUN} marks in a row. The JDK's normaliser sorts a run
     * of combining marks by insertion, so a message of 16,000 marks of alternating classes cost
     * seconds (quadratic); the joiner is a starter that ends the run, and no text has such runs. The
     * joiners are dropped with the others when the text is folded.
     */
    private static void appendStreamSafe(StringBuilder pieces, String text, int start, int end) {
        int marks = 0;
        for (int i = start; i < end; ) {
            int codePoint = text.codePointAt(i);
            int next = i + Character.charCount(codePoint);
            int type = Character.getType(codePoint);
            if (type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK || type == Character.ENCLOSING_MARK) {
                if (++marks > LONGEST_MARK_RUN) {
                    pieces.appendCodePoint(COMBINING_GRAPHEME_JOINER);
                    marks = 1;
                }
            } else {
                marks = 0;
            }
            int letter = unstyled(codePoint);
            if (letter != codePoint) {
                pieces.append((char) letter);
            } else {
                pieces.append(text, i, Math.min(next, end));
            }
            i = next;
        }
    }

    /** One code point's fold: styled letter, look-alike, case, then leet; the rest of {@link #normalise} is about sequences. */
    int fold(int codePoint) {
        int folded = unstyled(codePoint);
        if (confusables) {
            folded = CONFUSABLE_LETTERS.letterOr(folded);
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

    /** Step 1 over the whole of a text. */
    private String unicodeForm(String plain) {
        if (!diacritics) {
            return Normalizer.normalize(plain, Normalizer.Form.NFKC);
        }
        String decomposed = Normalizer.normalize(plain, Normalizer.Form.NFKD);
        StringBuilder bare = new StringBuilder(decomposed.length());
        for (int i = 0, length = decomposed.length(); i < length; ) {
            int codePoint = decomposed.codePointAt(i);
            i += Character.charCount(codePoint);
            // the stream-safe joiners stay until folded, so that the runs of spacing marks left stay short for NFC too
            if (Character.getType(codePoint) != Character.NON_SPACING_MARK || codePoint == COMBINING_GRAPHEME_JOINER) {
                bare.appendCodePoint(codePoint);
            }
        }
        return Normalizer.normalize(bare, Normalizer.Form.NFC);
    }

    /** The index of the first character from {@code from} on that Unicode normalisation might change or join, -1 for none. */
    private static int firstNeedingUnicodeForm(String text, int from) {
        for (int i = from, length = text.length(); i < length; i++) {
            if (needsUnicodeForm(text.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean needsUnicodeForm(char c) {
        return c >= 0x80 && (INERT[c >>> 6] & (1L << c)) == 0;
    }

    /**
     * The UTF-16 characters (surrogates excepted) that both Unicode forms of step 1 leave alone
     * wherever they are: no decomposition, canonical or compatibility; not a mark, so a starter that
     * nothing reorders; and never the second character of a canonical composition, so nothing before
     * them combines with them. Worked out from the JDK's own normaliser at class loading (a few tens of
     * milliseconds), so it follows the JDK's Unicode version.
     */
    private static final long[] INERT = inertCharacters();

    /** What joins the pieces given to {@link Normalizer}: a noncharacter, inert. */
    private static final char PIECE_END = '\uFFFF';

    private static long[] inertCharacters() {
        boolean[] second = new boolean[0x10000];
        for (int codePoint = 0x80; codePoint <= Character.MAX_CODE_POINT; codePoint++) {
            if (!Character.isDefined(codePoint) || (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE)) {
                continue;
            }
            String alone = Character.toString(codePoint);
            if (Normalizer.isNormalized(alone, Normalizer.Form.NFD)) {
                continue;
            }
            String decomposed = Normalizer.normalize(alone, Normalizer.Form.NFD);
            for (int i = 1; i < decomposed.length(); i++) {
                second[decomposed.charAt(i)] = true;
            }
        }
        long[] inert = new long[0x10000 / 64];
        for (int c = 0; c < 0x10000; c++) {
            if (c < 0x80 || Character.isSurrogate((char) c) || second[c]) {
                continue;
            }
            int type = Character.getType(c);
            if (type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || type == Character.COMBINING_SPACING_MARK) {
                continue;
            }
            String alone = String.valueOf((char) c);
            String afterMark = "\u0345" + alone; // the highest combining class before it: a nonzero class would reorder
            if (Normalizer.isNormalized(alone, Normalizer.Form.NFKD) && Normalizer.isNormalized(alone, Normalizer.Form.NFKC)
                    && Normalizer.isNormalized(afterMark, Normalizer.Form.NFD)) {
                inert[c >>> 6] |= 1L << c;
            }
        }
        if ((inert[PIECE_END >>> 6] & (1L << PIECE_END)) == 0) {
            throw new ExceptionInInitializerError("U+FFFF should be inert");
        }
        return inert;
    }
}
