package dev.matrixpolicy.gateway.matrix;

import dev.matrixpolicy.gateway.matrix.glob.GlobAutomaton;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A list of user IDs and globs ({@code *}: any run of characters, {@code ?}: one character), compiled
 * once so that a match costs O(length of the ID), not O(length of the list): exact IDs go into a
 * compact hash table ({@link ExactIds}), globs into one {@link GlobAutomaton}. Matching ignores case. Thread-safe.
 *
 * <p>An ID is matched as written and, as a policy list checks a server, with its server's host alone:
 * without the port, and without the trailing dot of a fully qualified name, so that {@code *:evil.example}
 * holds {@code @x:evil.example:8448} and {@code @x:evil.example.}, which name the same host. IPv6 literals are
 * compared in one spelling ({@link ServerNames#canonical}), in the list and in the ID. A port named in
 * the list ({@code *:evil.example:8448}) holds that port only.
 *
 * <p>{@code *} and {@code ?} are always wildcards. An ID that really contains them (the historical
 * localpart grammar allows it) is still matched by its own entry, along with the IDs the glob covers.
 */
public final class UserIdMatcher {
    private final ExactIds exact;
    private final GlobAutomaton globs;
    private final int globCount;

    private UserIdMatcher(ExactIds exact, List<String> globs) {
        this.exact = exact;
        this.globs = GlobAutomaton.compile(globs);
        this.globCount = globs.size();
    }

    public static UserIdMatcher compile(Collection<String> patterns) {
        Builder builder = new Builder(patterns.stream().mapToLong(pattern -> pattern.length() + 1L).sum());
        patterns.forEach(builder::add);
        return builder.build();
    }

    /**
     * Collects patterns one at a time, for a list too long to hold as strings first (a list file
     * of a million IDs): exact IDs go straight into compact storage. Not thread-safe; builds once.
     */
    public static final class Builder {
        private final ExactIds.Builder exact;
        private final Set<String> globs = new HashSet<>();

        public Builder() {
            exact = new ExactIds.Builder();
        }

        /**
         * @param expectedBytes about the size of the exact IDs to come in UTF-8, e.g. the size of the
         *                      file they are read from, so that their storage is allocated once
         */
        public Builder(long expectedBytes) {
            exact = new ExactIds.Builder((int) Math.min(expectedBytes, Integer.MAX_VALUE - 16));
        }

        /** Adds a pattern as {@link #problemWith} accepts it; it is folded here. */
        public Builder add(String pattern) {
            String folded = canonicalServer(fold(pattern));
            if (isGlob(folded)) {
                globs.add(folded);
            } else {
                exact.add(folded);
            }
            return this;
        }

        public UserIdMatcher build() {
            return new UserIdMatcher(exact.build(), new ArrayList<>(globs));
        }
    }

    public static boolean isGlob(String pattern) {
        return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
    }

    /**
     * What is wrong with a configured pattern, if anything: catches typos that would silently never
     * match, such as a forgotten {@code @} or a server name alone.
     */
    public static Optional<String> problemWith(String pattern) {
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                return Optional.of("must not contain white space or control characters");
            }
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

    /** Whether the ID is listed, ignoring case, as written or with its server's host alone. */
    public boolean matches(String userId) {
        String folded = fold(userId);
        if (listed(folded)) {
            return true;
        }
        int colon = folded.indexOf(':');
        if (colon < 0 || !spelledOtherwise(folded, colon + 1)) {
            return false; // the usual ID, @user:example.com: no other spelling, nothing allocated
        }
        String canonical = canonicalServer(folded);
        if (!canonical.equals(folded) && listed(canonical)) {
            return true;
        }
        String localpart = canonical.substring(0, colon + 1);
        List<String> servers = ServerNames.spellings(canonical.substring(colon + 1));
        for (int i = 1; i < servers.size(); i++) { // the first is the server as written, asked above
            if (listed(localpart + servers.get(i))) {
                return true;
            }
        }
        return false;
    }

    private boolean listed(String folded) {
        return exact.contains(folded) || (globCount > 0 && globs.matches(folded));
    }

    /** Whether the server of an ID, from {@code from}, has a port, a trailing dot or an IPv6 literal. */
    private static boolean spelledOtherwise(String id, int from) {
        return id.indexOf(':', from) >= 0 || id.endsWith(".") || id.startsWith("[", from);
    }

    /** The ID (or pattern) with its server in {@link ServerNames#canonical}'s one spelling; the text itself when it has no server. */
    private static String canonicalServer(String id) {
        int colon = id.indexOf(':');
        if (colon < 0 || !id.startsWith("[", colon + 1)) {
            return id;
        }
        return id.substring(0, colon + 1) + ServerNames.canonical(id.substring(colon + 1));
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
    public static String fold(String value) {
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
