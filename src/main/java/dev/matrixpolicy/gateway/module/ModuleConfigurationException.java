package dev.matrixpolicy.gateway.module;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A module's configuration is wrong in a way its types cannot express. Thrown by
 * {@link ModuleType#create}; startup stops with a message naming the entry and the field.
 */
public final class ModuleConfigurationException extends RuntimeException {
    private final String field;

    /**
     * @param field   the offending field, relative to the entry's {@code config}, e.g. {@code results.user_may_invite}
     * @param problem what is wrong, for a human
     */
    public ModuleConfigurationException(String field, String problem, Throwable cause) {
        super(problem, cause);
        this.field = field;
    }

    public ModuleConfigurationException(String field, String problem) {
        this(field, problem, null);
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

    public String field() {
        return field;
    }
}
