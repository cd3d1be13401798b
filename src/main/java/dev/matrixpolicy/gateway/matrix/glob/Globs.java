package dev.matrixpolicy.gateway.matrix.glob;

/**
 * One glob against one string, without an automaton: for the policy index's explanations, and as the
 * reference the automaton's tests check a no-match against where a glob's regex would backtrack for seconds.
 */
public final class Globs {
    private Globs() {
    }

    /** Whether {@code glob} ({@code *}: any run, {@code ?}: one code point) matches the whole of {@code input}. */
    public static boolean matches(String glob, String input) {
        int[] pattern = glob.codePoints().toArray();
        int[] text = input.codePoints().toArray();
        int p = 0;
        int t = 0;
        int star = -1;
        int resume = 0;
        while (t < text.length) {
            // a star first: an ID may hold a '*' itself (a historical localpart), which the star must not take as a literal
            if (p < pattern.length && pattern[p] == '*') {
                star = p++;
                resume = t;
            } else if (p < pattern.length && (pattern[p] == '?' || pattern[p] == text[t])) {
                p++;
                t++;
            } else if (star >= 0) {
                p = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length && pattern[p] == '*') {
            p++;
        }
        return p == pattern.length;
    }
}
