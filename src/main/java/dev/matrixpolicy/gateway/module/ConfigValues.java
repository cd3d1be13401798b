package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The configuration values several module types take, checked the one way: user lists, refusals
 * and callback lists. Each throws {@link ModuleConfigurationException} naming the field.
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
     * A secret given in the configuration itself, surrounding white space ignored.
     *
     * @throws ModuleConfigurationException when it is blank
     */
    public static String nonBlank(String field, String secret) {
        if (secret.isBlank()) {
            throw new ModuleConfigurationException(field, "the token is empty");
        }
        return secret.strip();
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
            String name = names.get(i);
            int index = i;
            chosen.add(supported.stream().filter(type -> type.name().equals(name)).findFirst().orElseThrow(() ->
                    new ModuleConfigurationException(field + "[" + index + "]", "'" + name + "' is not one of "
                            + supported.stream().map(CallbackType::name).toList())));
        }
        return chosen;
    }
}
