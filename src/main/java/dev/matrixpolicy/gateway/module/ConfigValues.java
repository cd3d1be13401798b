package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.replies.Durations;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.springframework.util.unit.DataSize;

/**
 * The configuration values several module types take, checked the one way: user lists, refusals
 * and callback lists (with the closest known name to a misspelt one). Each throws {@link ModuleConfigurationException} naming the field.
 */
public final class ConfigValues {
    private ConfigValues() {
    }

    /**
     * User IDs and globs compiled into one matcher.
     *
     * @param field the list's field, e.g. {@code groups[1].users}
     * @throws ModuleConfigurationException naming the first entry that could never match a user ID
     */
    public static UserIdMatcher users(String field, List<String> patterns) {
        for (int i = 0; i < patterns.size(); i++) {
            int index = i;
            UserIdMatcher.problemWith(patterns.get(i)).ifPresent(problem -> {
                throw new ModuleConfigurationException(field + "[" + index + "]", problem);
            });
        }
        return UserIdMatcher.compile(patterns);
    }

    /**
     * A login type, or the name of one of its fields, as Synapse can offer it to clients
     * ({@link LoginType#problemWith}); else the module's configuration error for {@code field}.
     */
    public static String loginName(String field, String name) {
        LoginType.problemWith(name).ifPresent(problem -> {
            throw new ModuleConfigurationException(field, problem);
        });
        return name;
    }

    /**
     * The refusal of an {@code errcode} key and an optional {@code error} message (blank: none).
     *
     * @throws ModuleConfigurationException when {@code errcode} is not a Matrix error code
     */
    public static Rejection rejection(String errcode, String error) {
        if (!Rejection.isErrcode(errcode)) {
            throw new ModuleConfigurationException("errcode", "expected a Matrix error code such as M_FORBIDDEN, got '"
                    + errcode + "'");
        }
        return new Rejection(errcode, Optional.ofNullable(error).filter(message -> !message.isBlank()));
    }

    /**
     * Refuses a list whose entries share a name, naming the second one, e.g.
     * {@code groups[1].name: 'staff' names two groups; names must be unique}.
     *
     * @param list  the list's field, e.g. {@code groups}
     * @param names the entries' names, in list order
     * @param noun  what an entry is, in the plural, e.g. {@code groups}
     */
    public static void requireUniqueNames(String list, List<String> names, String noun) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            if (!seen.add(names.get(i))) {
                throw new ModuleConfigurationException(list + "[" + i + "].name",
                        "'" + names.get(i) + "' names two " + noun + "; names must be unique");
            }
        }
    }

    /**
     * A secret (an access token) read once from a file by {@link SecretFile}, surrounding white space
     * ignored; modules read one through {@link ModuleContext#secretFile}, which remembers it for reloads.
     *
     * @param field the file's field, e.g. {@code token-file}
     * @throws ModuleConfigurationException when the file cannot be read or holds nothing, e.g.
     *         {@code token-file: /run/secrets/token does not exist}
     */
    static String secretFile(String field, Path file) {
        try {
            return SecretFile.read(file);
        } catch (SecretFile.UnreadableSecretException unreadable) {
            throw new ModuleConfigurationException(field, unreadable.getMessage(), unreadable);
        }
    }

    /**
     * The bearer token a module sends to its backend, from its {@code token} or its {@code
     * token-file} (a mounted Kubernetes Secret), at most one of them: the file is read through
     * {@link ModuleContext#secretFile}, so that a rotated token rebuilds the instance, and its first
     * line that is not blank is sent ({@link #bearerTokenFile}). Every module that takes a token
     * takes it this way, under these two keys.
     *
     * @return empty when neither is set
     * @throws ModuleConfigurationException when both are set, or the token is unfit for the header;
     *         the message never quotes the token
     */
    public static Optional<String> bearerToken(String token, Path tokenFile, ModuleContext context) {
        if (token != null && tokenFile != null) {
            throw new ModuleConfigurationException("token", "set token or token-file, not both");
        }
        if (tokenFile != null) {
            return Optional.of(bearerTokenFile("token-file", context.secretFile("token-file", tokenFile)));
        }
        return Optional.ofNullable(token).map(inline -> bearerToken("token", inline));
    }

    /**
     * A bearer token, given in the configuration or read from a file, surrounding white space
     * ignored: what is left must be one word of visible ASCII, as an HTTP header value allows. A
     * token file with a second line, or a token with a control character, would otherwise be
     * accepted here and make every request fail, with the JDK's message quoting the header.
     *
     * @param field the token's field, e.g. {@code token} or {@code token-file}
     * @throws ModuleConfigurationException when it is blank or not one word of visible ASCII; the
     *         message never quotes the token
     */
    static String bearerToken(String field, String token) {
        String stripped = token.strip();
        tokenProblem(stripped).ifPresent(problem -> {
            throw new ModuleConfigurationException(field, problem);
        });
        return stripped;
    }

    /**
     * The bearer token a token file gives: its first line that is not blank, checked as
     * {@link #bearerToken}. The gateway's own token files accept every line, so that a token can be
     * rotated without a window of refusals; a module sending to another gateway can be given the
     * same file, and sends the first line, the token in force.
     *
     * @param field the file's field, e.g. {@code token-file}
     * @throws ModuleConfigurationException when no line holds a token, or the first that does is not
     *         one word of visible ASCII; the message never quotes the token
     */
    static String bearerTokenFile(String field, String text) {
        return bearerToken(field, text.lines().filter(line -> !line.isBlank()).findFirst().orElse(""));
    }

    /**
     * What makes a token unfit for an {@code Authorization: Bearer} header, without quoting it:
     * empty, or a character that is not visible ASCII (a line break, a space, a control or
     * non-ASCII character), named by its position and code point.
     */
    static Optional<String> tokenProblem(String token) {
        if (token.isEmpty()) {
            return Optional.of("the token is empty");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return Optional.of(String.format(Locale.ROOT, "the token must be one word of visible ASCII on one line "
                        + "(no 'Bearer ', no second line), but character %d is U+%04X", i + 1, (int) c));
            }
        }
        return Optional.empty();
    }

    /**
     * Callbacks chosen by name among those a module supports, in the order given.
     *
     * @param field the list's field, e.g. {@code callbacks}
     * @throws ModuleConfigurationException naming an entry that is not one of {@code supported}
     */
    public static Set<CallbackType<?, ?, ?>> callbacks(String field, List<String> names, List<CallbackType<?, ?, ?>> supported) {
        Set<CallbackType<?, ?, ?>> chosen = new LinkedHashSet<>();
        for (int i = 0; i < names.size(); i++) {
            chosen.add(callback(field + "[" + i + "]", names.get(i), supported, "one of"));
        }
        return chosen;
    }

    /**
     * One callback chosen by name among {@code supported}: what a module's callback lists and maps
     * ({@code callbacks:}, {@code results:}) are checked with, so a misspelt name is refused at
     * startup with the closest known one.
     *
     * @param notOne how the refusal goes on after {@code 'name' is not}, e.g. {@code a Synapse callback; known callbacks:}
     * @throws ModuleConfigurationException naming the field, the list of {@code supported} and the closest name
     */
    public static CallbackType<?, ?, ?> callback(String field, String name, List<CallbackType<?, ?, ?>> supported, String notOne) {
        List<String> names = supported.stream().map(CallbackType::name).toList();
        return supported.stream().filter(type -> type.name().equals(name)).findFirst().orElseThrow(() ->
                new ModuleConfigurationException(field, "'" + name + "' is not " + notOne + " " + names
                        + closest(name, names).map(meant -> ". Did you mean " + meant + "?").orElse("")));
    }

    /**
     * The known key or name closest to a misspelt one, if one is close enough to be the one meant:
     * one edit away for names of up to 4 characters, two for longer ones, ignoring case, {@code -}
     * and {@code _} (as Spring's relaxed binding does). The first of equally close names wins.
     */
    public static Optional<String> closest(String misspelt, Collection<String> known) {
        String wrong = uniform(misspelt);
        int allowed = wrong.length() <= 4 ? 1 : 2;
        return known.stream()
                .filter(candidate -> distance(wrong, uniform(candidate)) <= allowed)
                .min(Comparator.comparingInt(candidate -> distance(wrong, uniform(candidate))));
    }

    /**
     * The optimal string alignment distance: Levenshtein's insertions, deletions and substitutions,
     * plus swapping two neighbours ({@code modlues}), each one edit. A few lines do; a library would
     * be a dependency for one function.
     */
    private static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int substitution = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + substitution);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static String uniform(String key) {
        StringBuilder uniform = new StringBuilder(key.length());
        key.toLowerCase(Locale.ROOT).chars().filter(Character::isLetterOrDigit).forEach(c -> uniform.append((char) c));
        return uniform.toString();
    }

    /** A size as configuration writes it: {@code 1MB}, {@code 64KB}, or bytes. */
    public static String format(DataSize size) {
        return ReplyCap.format(size.toBytes());
    }

    /**
     * A duration as configuration writes it: {@code 2s}, {@code 1500ms}, never rounded; the modules'
     * way to {@link Durations#format}, as {@link #format(DataSize)} is to the reply cap's.
     */
    public static String format(Duration duration) {
        return Durations.format(duration);
    }
}
