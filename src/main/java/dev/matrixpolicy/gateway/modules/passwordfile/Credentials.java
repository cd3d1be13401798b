package dev.matrixpolicy.gateway.modules.passwordfile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The users this module knows, by localpart, with their password hashes, and the dummy hashes that
 * unknown users' logins are checked against. Immutable; a reload builds a new one.
 *
 * @param users   localpart to hash
 * @param dummies a hash of a random password per cost the users' hashes have
 */
record Credentials(Map<String, PasswordHash> users, Dummies dummies) {

    /** The spec's grammar for localparts of new users. */
    private static final Pattern LOCALPART = Pattern.compile("[a-z0-9._=/+-]+");
    static final String LOCALPART_RULE = "a localpart of a-z, 0-9 and . _ = / + -";

    Credentials {
        users = Map.copyOf(users);
    }

    /** A credentials problem: where it is (a line, a user) and what, never the secret. */
    static final class InvalidCredentialsException extends Exception {
        private final String where;
        private final String problem;

        InvalidCredentialsException(String where, String problem) {
            super(where + ": " + problem, null, false, false);
            this.where = where;
            this.problem = problem;
        }

        String where() {
            return where;
        }

        String problem() {
            return problem;
        }
    }

    static boolean isLocalpart(String value) {
        return LOCALPART.matcher(value).matches();
    }

    /**
     * Builds the credentials from the inline users and the file's lines; a user may be defined in one
     * place only.
     *
     * @param previous the credentials these replace, whose dummies are kept for the costs still in use
     * @param memory   the argon2id budget a new dummy is made within
     * @throws InterruptedException when the thread stops waiting for the budget
     */
    static Credentials of(Map<String, PasswordHash> inline, Map<String, PasswordHash> fromFile, Optional<Credentials> previous,
                          Argon2Budget memory) throws InvalidCredentialsException, InterruptedException {
        Map<String, PasswordHash> users = new LinkedHashMap<>(inline);
        for (String user : fromFile.keySet()) {
            if (users.containsKey(user)) {
                throw new InvalidCredentialsException("user '" + user + "'", "defined both in the file and in users; "
                        + "define each user once");
            }
        }
        users.putAll(fromFile);
        return new Credentials(users, Dummies.of(users.values(), previous.map(Credentials::dummies), memory));
    }

    /** Inline {@code users}, by localpart. The exception message starts with the offending key. */
    static Map<String, PasswordHash> parseInline(Map<String, String> users, PasswordHash.Limits limits)
            throws InvalidCredentialsException {
        Map<String, PasswordHash> parsed = new LinkedHashMap<>();
        for (Map.Entry<String, String> user : users.entrySet()) {
            if (!isLocalpart(user.getKey())) {
                throw new InvalidCredentialsException(user.getKey(), "not " + LOCALPART_RULE);
            }
            try {
                parsed.put(user.getKey(), PasswordHash.parse(user.getValue(), limits));
            } catch (IllegalArgumentException wrong) {
                throw new InvalidCredentialsException(user.getKey(), wrong.getMessage());
            }
        }
        return parsed;
    }

    /** A password file: one {@code localpart:hash} per line; blank lines and {@code #} comments are skipped. */
    static Map<String, PasswordHash> parseFile(List<String> lines, PasswordHash.Limits limits) throws InvalidCredentialsException {
        Map<String, PasswordHash> parsed = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new LinkedHashMap<>();
        for (int index = 0; index < lines.size(); index++) {
            String line = lines.get(index).strip();
            int number = index + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new InvalidCredentialsException("line " + number, "expected localpart:hash");
            }
            String user = line.substring(0, colon).strip();
            if (!isLocalpart(user)) {
                // Not echoed: a line without a proper user name may be anything, a password included.
                throw new InvalidCredentialsException("line " + number, "the user name is not " + LOCALPART_RULE);
            }
            Integer earlier = lineOf.putIfAbsent(user, number);
            if (earlier != null) {
                throw new InvalidCredentialsException("line " + number, "user '" + user + "' is already defined on line " + earlier);
            }
            try {
                parsed.put(user, PasswordHash.parse(line.substring(colon + 1), limits));
            } catch (IllegalArgumentException wrong) {
                throw new InvalidCredentialsException("line " + number + " (user '" + user + "')", wrong.getMessage());
            }
        }
        return parsed;
    }

    /** The hash a login for {@code localpart} is checked against: the user's own, or the name's dummy. */
    PasswordHash hashFor(String localpart) {
        PasswordHash known = users.get(localpart);
        return known != null ? known : dummies.forUser(localpart);
    }

    @Override
    public String toString() {
        return "Credentials[" + users.size() + " users]";
    }
}
