package dev.matrixpolicy.gateway.matrix;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A list of user IDs and globs ({@code *}: any run of characters, {@code ?}: one character), compiled
 * once so that a match costs O(length of the ID), not O(length of the list): exact IDs go into a hash
 * set, globs into one {@link GlobAutomaton}. Matching ignores case. Thread-safe.
 *
 * <p>{@code *} and {@code ?} are always wildcards. An ID that really contains them (the historical
 * localpart grammar allows it) is still matched by its own entry, along with the IDs the glob covers.
 */
public final class UserIdMatcher {
    private final Set<String> exact;
    private final GlobAutomaton globs;
    private final int globCount;

    private UserIdMatcher(Set<String> exact, List<String> globs) {
        this.exact = Set.copyOf(exact);
        this.globs = GlobAutomaton.compile(globs);
        this.globCount = globs.size();
    }

    public static UserIdMatcher compile(Collection<String> patterns) {
        Set<String> exact = new HashSet<>();
        Set<String> globs = new HashSet<>();
        for (String pattern : patterns) {
            String folded = fold(pattern);
            (isGlob(folded) ? globs : exact).add(folded);
        }
        return new UserIdMatcher(exact, new ArrayList<>(globs));
    }

    public static boolean isGlob(String pattern) {
        return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
    }

    /**
     * What is wrong with a configured pattern, if anything: catches typos that would silently never
     * match, such as a forgotten {@code @} or a server name alone.
     */
    public static Optional<String> problemWith(String pattern) {
        if (pattern.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
            return Optional.of("must not contain white space or control characters");
        }
        if (isGlob(pattern)) {
            char first = pattern.charAt(0);
            return first == '@' || first == '*' || first == '?' ? Optional.empty()
                    : Optional.of("a glob must start with '@', '*' or '?': user IDs start with '@'");
        }
        try {
            MatrixIds.userId(pattern);
            return Optional.empty();
        } catch (IllegalArgumentException invalid) {
            return Optional.of("'" + pattern + "' is " + invalid.getMessage() + " (or a glob with '*' or '?')");
        }
    }

    /** Whether the ID is listed, ignoring case. */
    public boolean matches(String userId) {
        String folded = fold(userId);
        return exact.contains(folded) || (globCount > 0 && globs.matches(folded));
    }

    public int exactCount() {
        return exact.size();
    }

    public int globCount() {
        return globCount;
    }

    /**
     * Lower case, one code point for one code point, so a {@code ?} covers the same character before
     * and after folding. Returns the string itself, without allocating, when it has no upper case
     * (the usual user ID).
     */
    static String fold(String value) {
        int i = 0;
        int length = value.length();
        while (i < length) {
            int codePoint = value.codePointAt(i);
            if (Character.toLowerCase(codePoint) != codePoint) {
                break;
            }
            i += Character.charCount(codePoint);
        }
        if (i == length) {
            return value;
        }
        StringBuilder folded = new StringBuilder(length).append(value, 0, i);
        while (i < length) {
            int codePoint = value.codePointAt(i);
            folded.appendCodePoint(Character.toLowerCase(codePoint));
            i += Character.charCount(codePoint);
        }
        return folded.toString();
    }
}
