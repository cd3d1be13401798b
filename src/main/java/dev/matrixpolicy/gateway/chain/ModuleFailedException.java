package dev.matrixpolicy.gateway.chain;

import java.util.List;

/**
 * A module threw, timed out or broke its contract while its link was set to
 * {@link FailurePolicy#FAIL_CLOSED}: the chain stopped and the question has no answer.
 */
public final class ModuleFailedException extends RuntimeException {
    private final String callback;
    private final String module;
    /** Not serialized: a reply holds whatever a module answered. */
    private final transient List<ShadowAnswer<?>> shadowAnswers;

    public ModuleFailedException(String callback, String module, Throwable cause) {
        this(callback, module, cause, List.of());
    }

    private ModuleFailedException(String callback, String module, Throwable cause, List<ShadowAnswer<?>> shadowAnswers) {
        super("module '" + module + "' failed on " + callback + ": " + describe(cause), cause);
        this.callback = callback;
        this.module = module;
        this.shadowAnswers = List.copyOf(shadowAnswers);
    }

    /**
     * This failure, with what the shadow entries asked before it replied: they were asked all the same,
     * and their would-be refusals belong in the decision log as a decision's do ({@link Decision#shadowAnswers()}).
     */
    ModuleFailedException withShadowAnswers(List<? extends ShadowAnswer<?>> answers) {
        ModuleFailedException failure = new ModuleFailedException(callback, module, getCause(), List.copyOf(answers));
        failure.setStackTrace(getStackTrace());
        return failure;
    }

    /** What the shadow entries asked before the failing one replied, in chain order; empty when none were. */
    public List<ShadowAnswer<?>> shadowAnswers() {
        return shadowAnswers;
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
