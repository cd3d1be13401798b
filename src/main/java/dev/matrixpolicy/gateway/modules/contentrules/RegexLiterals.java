package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.Locale;
import java.util.Optional;

/**
 * The prefilter of {@code regexes}: a literal that every match of a regular expression contains, so
 * that one pass of the {@link PatternAutomaton} over a text tells which few regexes can match at all,
 * and only those run. A hundred regexes then cost one scan plus the few whose literal is there, not
 * a hundred scans.
 *
 * <p>Sound by construction: the pattern's top level is read as a sequence of atoms, and only ASCII
 * characters that are required, in a row, form the literal. Anything this reader does not fully
 * understand (a top-level {@code |}, {@code \Q}, an unmatched parenthesis, a {@code {} that is not a
 * repetition) gives no literal, and the regex runs on every text. A literal is only kept from three
 * characters on, lower-cased: regexes are matched ignoring case against normalised text, which is
 * lower case.
 */
final class RegexLiterals {
    static final int MIN_LENGTH = 3;

    private RegexLiterals() {
    }

    /** The longest run of required literal characters of the regex, or empty when there is none to rely on. */
    static Optional<String> required(String regex) {
        StringBuilder run = new StringBuilder();
        String best = "";
        int i = 0;
        int length = regex.length();
        while (i < length) {
            char c = regex.charAt(i);
            int literal = -1; // the atom's character when it is a plain ASCII literal
            int next;
            switch (c) {
                case '\\' -> {
                    if (i + 1 >= length) {
                        return Optional.empty();
                    }
                    char escaped = regex.charAt(i + 1);
                    if (escaped < 0x80 && !Character.isLetterOrDigit(escaped)) {
                        literal = escaped;
                        next = i + 2;
                    } else if (escaped == 'Q' || escaped == 'E' || escaped == 'p' || escaped == 'P' || escaped == 'x'
                            || Character.isDigit(escaped)) {
                        return Optional.empty(); // quoting, and escapes with a body (\x41, \p{L}, \123): not read here
                    } else {
                        next = i + 2; // \d, \w, \b and the like: not literal
                    }
                }
                case '(' -> {
                    next = skipGroup(regex, i);
                    if (next < 0) {
                        return Optional.empty();
                    }
                }
                case '[' -> {
                    next = skipClass(regex, i);
                    if (next < 0) {
                        return Optional.empty();
                    }
                }
                case '|', ')', '*', '+', '?', '{' -> {
                    return Optional.empty(); // alternation, or a quantifier with nothing before it
                }
                default -> {
                    next = i + 1;
                    if (c != '.' && c != '^' && c != '$' && c < 0x80) {
                        literal = c;
                    }
                }
            }
            int afterQuantifier = quantifierEnd(regex, next);
            if (afterQuantifier == -2) {
                return Optional.empty();
            }
            if (literal >= 0 && afterQuantifier == next) {
                run.append((char) literal);
            } else {
                best = longer(best, run);
                run.setLength(0);
            }
            i = Math.max(next, afterQuantifier);
        }
        best = longer(best, run);
        return best.length() >= MIN_LENGTH ? Optional.of(best.toLowerCase(Locale.ROOT)) : Optional.empty();
    }

    private static String longer(String best, StringBuilder run) {
        return run.length() > best.length() ? run.toString() : best;
    }

    /**
     * Where the quantifier at {@code at} ends (a lazy {@code ?} included), {@code at} itself when there
     * is none, or -2 for a {@code {} this reader does not take for a repetition.
     */
    private static int quantifierEnd(String regex, int at) {
        if (at >= regex.length()) {
            return at;
        }
        char c = regex.charAt(at);
        int end;
        if (c == '*' || c == '+' || c == '?') {
            end = at + 1;
        } else if (c == '{') {
            int close = regex.indexOf('}', at);
            if (close < 0 || !regex.substring(at + 1, close).matches("\\d+(,\\d*)?")) {
                return -2;
            }
            end = close + 1;
        } else {
            return at;
        }
        return end < regex.length() && regex.charAt(end) == '?' ? end + 1 : end;
    }

    /** The index after the group opening at {@code open}, or -1 when it does not close. */
    private static int skipGroup(String regex, int open) {
        int depth = 0;
        for (int i = open; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '[') {
                i = skipClass(regex, i);
                if (i < 0) {
                    return -1;
                }
                i--;
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i + 1;
            }
        }
        return -1;
    }

    /** The index after the character class opening at {@code open}, or -1 when it does not close. */
    private static int skipClass(String regex, int open) {
        int i = open + 1;
        if (i < regex.length() && regex.charAt(i) == '^') {
            i++;
        }
        if (i < regex.length() && regex.charAt(i) == ']') {
            i++; // a leading ']' is literal
        }
        for (; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '[' && i + 1 < regex.length() && regex.charAt(i + 1) == ':') {
                int close = regex.indexOf(":]", i + 2);
                if (close < 0) {
                    return -1;
                }
                i = close + 1;
            } else if (c == ']') {
                return i + 1;
            }
        }
        return -1;
    }
}
