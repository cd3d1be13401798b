package dev.matrixpolicy.gateway.module;

/**
 * A module's configuration is wrong in a way its types cannot express. Thrown by
 * {@link ModuleType#create}; startup stops with a message naming the entry and the field.
 */
public final class ModuleConfigurationException extends RuntimeException {
    private final String field;
    private final boolean secretValue;

    /**
     * @param field   the offending field, relative to the entry's {@code config}, e.g. {@code results.user_may_invite}
     * @param problem what is wrong, for a human
     */
    public ModuleConfigurationException(String field, String problem, Throwable cause) {
        this(field, problem, cause, false);
    }

    /**
     * @param field       the offending field, relative to the entry's {@code config}
     * @param problem     what is wrong, for a human; never the value of a secret field
     * @param secretValue whether the field's value may be a secret (a password, a hash of one, a key): the
     *                    startup screen, the log and a reload's refusal then name the field and its line, not its
     *                    value, which they show otherwise
     */
    public ModuleConfigurationException(String field, String problem, Throwable cause, boolean secretValue) {
        super(problem, cause);
        this.field = field;
        this.secretValue = secretValue;
    }

    public ModuleConfigurationException(String field, String problem) {
        this(field, problem, null);
    }

    public String field() {
        return field;
    }

    /** Whether the field's value may be a secret, never to be shown. */
    public boolean secretValue() {
        return secretValue;
    }
}
