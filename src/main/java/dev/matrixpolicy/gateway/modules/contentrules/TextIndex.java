package dev.matrixpolicy.gateway.modules.contentrules;

import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Every rule's keywords, phrases and regexes, compiled together: one {@link PatternAutomaton} holds
 * the keywords, the phrases and the {@linkplain RegexLiterals required literals} of the regexes, so
 * that one pass over a normalised text finds which rules' words occur and which regexes can match.
 * Only those regexes run (RE2/J: time linear in the text, which is capped).
 */
final class TextIndex {
    /** Scripts written without spaces between words: see {@link #isWord}. */
    private static final Set<Character.UnicodeScript> UNSPACED = EnumSet.of(Character.UnicodeScript.HAN,
            Character.UnicodeScript.HIRAGANA, Character.UnicodeScript.KATAKANA, Character.UnicodeScript.THAI,
            Character.UnicodeScript.LAO, Character.UnicodeScript.KHMER, Character.UnicodeScript.MYANMAR,
            Character.UnicodeScript.TIBETAN, Character.UnicodeScript.YI);

    /** What the text of a subject holds, for each rule. */
    record Hits(BitSet words, BitSet regexCandidates) {
    }

    private enum Kind { KEYWORD, PHRASE, REGEX_LITERAL }

    private final PatternAutomaton automaton;
    private final Kind[] kinds;
    /** For a keyword or phrase, its rule; for a regex literal, its regex. */
    private final int[] owners;
    private final int[] lengths;
    private final List<Pattern> regexes;
    private final int[] regexRule;
    /** Regexes with no literal to look for: they run on every text. */
    private final BitSet alwaysRun;

    private TextIndex(Builder builder) {
        this.automaton = PatternAutomaton.of(builder.patterns);
        this.kinds = builder.kinds.toArray(Kind[]::new);
        this.owners = builder.owners.stream().mapToInt(Integer::intValue).toArray();
        this.lengths = builder.patterns.stream().mapToInt(String::length).toArray();
        this.regexes = List.copyOf(builder.regexes);
        this.regexRule = builder.regexRules.stream().mapToInt(Integer::intValue).toArray();
        this.alwaysRun = (BitSet) builder.alwaysRun.clone();
    }

    static Builder builder() {
        return new Builder();
    }

    /** One pass over the normalised text. */
    Hits scan(String text) {
        BitSet words = new BitSet();
        BitSet candidates = (BitSet) alwaysRun.clone();
        automaton.scan(text, (pattern, end) -> {
            int owner = owners[pattern];
            switch (kinds[pattern]) {
                case KEYWORD -> {
                    if (!words.get(owner) && isWord(text, end - lengths[pattern], end)) {
                        words.set(owner);
                    }
                }
                case PHRASE -> words.set(owner);
                case REGEX_LITERAL -> candidates.set(owner);
            }
        });
        return new Hits(words, candidates);
    }

    /** Whether a regex of the rule matches: only its candidates run. */
    boolean regexMatches(int rule, Hits hits, String text) {
        for (int regex = hits.regexCandidates().nextSetBit(0); regex >= 0; regex = hits.regexCandidates().nextSetBit(regex + 1)) {
            if (regexRule[regex] == rule && regexes.get(regex).matcher(text).find()) {
                return true;
            }
        }
        return false;
    }

    int regexCount() {
        return regexes.size();
    }

    int literalCount() {
        return automaton.size();
    }

    /**
     * Keywords match whole words: at each end of the occurrence, a word ends there. In scripts written
     * without spaces between words (Chinese, Japanese, Thai and their neighbours) every character may
     * end a word, so {@code 空投} is a word of {@code 快来领取空投吧} and {@code airdrop} one of
     * {@code 免费airdrop领取}; between letters or digits of other scripts no word ends
     * ({@code coin} is no word of {@code bitcoin}).
     */
    private static boolean isWord(String text, int start, int end) {
        return (start == 0 || wordEndsBetween(text.codePointBefore(start), text.codePointAt(start)))
                && (end == text.length() || wordEndsBetween(text.codePointBefore(end), text.codePointAt(end)));
    }

    private static boolean wordEndsBetween(int before, int after) {
        return !Character.isLetterOrDigit(before) || !Character.isLetterOrDigit(after) || unspaced(before) || unspaced(after);
    }

    /** Whether a character is of a script that writes no space between words. */
    private static boolean unspaced(int c) {
        return c >= 0x0E00 && UNSPACED.contains(Character.UnicodeScript.of(c));
    }


    static final class Builder {
        private final List<String> patterns = new ArrayList<>();
        private final List<Kind> kinds = new ArrayList<>();
        private final List<Integer> owners = new ArrayList<>();
        private final List<Pattern> regexes = new ArrayList<>();
        private final List<Integer> regexRules = new ArrayList<>();
        private final BitSet alwaysRun = new BitSet();

        /** A normalised keyword of a rule. */
        Builder keyword(int rule, String normalised) {
            return add(normalised, Kind.KEYWORD, rule);
        }

        /** A normalised phrase of a rule. */
        Builder phrase(int rule, String normalised) {
            return add(normalised, Kind.PHRASE, rule);
        }

        /** A compiled regex of a rule, and its source to find a required literal in. */
        Builder regex(int rule, String source, Pattern compiled) {
            int index = regexes.size();
            regexes.add(compiled);
            regexRules.add(rule);
            RegexLiterals.required(source).ifPresentOrElse(literal -> add(literal, Kind.REGEX_LITERAL, index),
                    () -> alwaysRun.set(index));
            return this;
        }

        TextIndex build() {
            return new TextIndex(this);
        }

        private Builder add(String pattern, Kind kind, int owner) {
            patterns.add(pattern);
            kinds.add(kind);
            owners.add(owner);
            return this;
        }
    }
}
