package dev.matrixpolicy.gateway.modules.contentrules;

/**
 * How large a regex's compiled program would be, counted from its source before it is compiled:
 * each literal, class or escape one ({@code \Q...\E} one a character), a group the sum of what it
 * holds, a counted repetition {@code {n,m}} its operand {@code m} times (RE2 compiles it so). RE2/J
 * sets no limit of its own: {@code (((a{1000}){1000}){1000}){1000}} ran the heap out compiling, and
 * matching costs up to the program's size for each character of a text the sender chooses
 * ({@code (\w{0,1000}){19}x} took 6.5 s on 16 KiB), so the limit is low: what a content rule needs.
 */
final class RegexSize {
    /** The largest program allowed, in the units counted here. */
    static final long LARGEST = 1_000;
    /** The deepest nesting of groups allowed (each a frame of the compiler's recursion). */
    static final int DEEPEST = 200;

    private RegexSize() {
    }

    /** Why {@code source} is too large to compile, or null when it is not. */
    static String tooLarge(String source) {
        long[] totals = new long[DEEPEST + 2];
        long[] lasts = new long[DEEPEST + 2];
        int depth = 0;
        int length = source.length();
        for (int i = 0; i < length; i++) {
            char c = source.charAt(i);
            long atom = 1;
            if (c == '\\' && i + 1 < length && source.charAt(i + 1) == 'Q') { // literal up to \E
                int end = source.indexOf("\\E", i + 2);
                int stop = end < 0 ? length : end;
                atom = Math.max(1, stop - (i + 2));
                i = end < 0 ? length - 1 : end + 1;
                totals[depth] += atom;
                lasts[depth] = atom;
                if (totals[depth] > LARGEST) {
                    return "it is too large to compile (over " + LARGEST + " instructions)";
                }
                continue;
            }
            switch (c) {
                case '\\' -> i = endOfEscape(source, i);
                case '[' -> i = endOfClass(source, i);
                case '(' -> {
                    if (++depth > DEEPEST) {
                        return "it nests groups more than " + DEEPEST + " deep";
                    }
                    totals[depth] = 0;
                    lasts[depth] = 0;
                    continue;
                }
                case ')' -> {
                    if (depth == 0) {
                        continue; // unbalanced: the compiler says so
                    }
                    atom = totals[depth--] + 1;
                }
                case '|', '^', '$' -> {
                    continue;
                }
                case '*', '+', '?' -> {
                    continue; // the operand once more, at most: within the counting's precision
                }
                case '{' -> {
                    int close = source.indexOf('}', i);
                    long times = close < 0 ? -1 : repetitions(source.substring(i + 1, close));
                    if (times >= 0) {
                        // both within LARGEST (anything over is refused at once) and times under 10^9: no overflow
                        long repeated = lasts[depth] * times;
                        totals[depth] = totals[depth] - lasts[depth] + repeated;
                        lasts[depth] = repeated;
                        i = close;
                        if (totals[depth] > LARGEST) {
                            return "its counted repetitions make it too large to compile (over " + LARGEST
                                    + " instructions, each costing time on every character a message holds)";
                        }
                        continue;
                    }
                    // a '{' that is no repetition is a literal
                }
                default -> {
                }
            }
            totals[depth] += atom;
            lasts[depth] = atom;
            if (totals[depth] > LARGEST) {
                return "it is too large to compile (over " + LARGEST + " instructions)";
            }
        }
        return null;
    }

    /** The largest count of {@code n}, {@code n,} or {@code n,m}; -1 when it is none of those. */
    private static long repetitions(String counts) {
        if (!counts.matches("\\d{1,9}(,\\d{0,9})?")) {
            return -1;
        }
        int comma = counts.indexOf(',');
        if (comma < 0) {
            return Long.parseLong(counts);
        }
        String most = counts.substring(comma + 1);
        return most.isEmpty() ? Long.parseLong(counts.substring(0, comma)) + 1 : Long.parseLong(most);
    }

    /** The index of an escape's last character: {@code \p{Greek}} and {@code \x{10FFFF}} end at their brace. */
    private static int endOfEscape(String source, int backslash) {
        int next = backslash + 1;
        if (next + 1 < source.length() && "pPx".indexOf(source.charAt(next)) >= 0 && source.charAt(next + 1) == '{') {
            int close = source.indexOf('}', next);
            return close < 0 ? source.length() - 1 : close;
        }
        return Math.min(next, source.length() - 1);
    }

    /** The index of a character class's closing bracket ({@code []a]} and {@code [^]a]} hold a ']'). */
    private static int endOfClass(String source, int open) {
        int i = open + 1;
        if (i < source.length() && source.charAt(i) == '^') {
            i++;
        }
        if (i < source.length() && source.charAt(i) == ']') {
            i++;
        }
        for (; i < source.length(); i++) {
            char c = source.charAt(i);
            if (c == '\\' && i + 1 < source.length() && source.charAt(i + 1) == 'Q') {
                int end = source.indexOf("\\E", i + 2);
                i = end < 0 ? source.length() - 1 : end + 1;
            } else if (c == '\\') {
                i++;
            } else if (c == '[' && i + 1 < source.length() && source.charAt(i + 1) == ':') {
                int close = source.indexOf(":]", i + 2);
                i = close < 0 ? i : close + 1;
            } else if (c == ']') {
                return i;
            }
        }
        return source.length() - 1;
    }
}
