package dev.matrixpolicy.gateway.config;

/**
 * A {@code modules} entry cannot be built. Names the entry by position and type, and the field.
 */
final class InvalidModuleException extends RuntimeException {
    private final String entry;
    private final String field;
    private final String problem;

    InvalidModuleException(int position, String type, String field, String problem, Throwable cause) {
        super("policy-gateway.modules[" + position + "] (module: " + type + ") " + field + ": " + problem, cause);
        this.entry = "policy-gateway.modules[" + position + "] (module: " + type + ")";
        this.field = field;
        this.problem = problem;
    }

    String entry() {
        return entry;
    }

    String field() {
        return field;
    }

    String problem() {
        return problem;
    }
}
