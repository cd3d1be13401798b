package dev.matrixpolicy.gateway.module;

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

    public String field() {
        return field;
    }
}
