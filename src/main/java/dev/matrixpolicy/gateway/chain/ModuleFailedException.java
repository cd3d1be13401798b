package dev.matrixpolicy.gateway.chain;

/**
 * A module threw, timed out or broke its contract while its link was set to
 * {@link FailurePolicy#FAIL_CLOSED}: the chain stopped and the question has no answer.
 */
public final class ModuleFailedException extends RuntimeException {
    private final String callback;
    private final String module;

    public ModuleFailedException(String callback, String module, Throwable cause) {
        super("module '" + module + "' failed on " + callback + ": " + describe(cause), cause);
        this.callback = callback;
        this.module = module;
    }

    public String callback() {
        return callback;
    }

    public String module() {
        return module;
    }

    static String describe(Throwable cause) {
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
