package dev.matrixpolicy.gateway.module;

/**
 * What a module answers when its backend cannot, and how the WARN line of the failure says so.
 *
 * @param answer      the module's answer
 * @param consequence what it means, for the end of the WARN line, e.g. {@code failing closed: 3PID denied}
 * @param <T>         the callback's result type
 */
public record FailureAnswer<T>(T answer, String consequence) {

    /**
     * The answer of a module's {@link FailureMode}, said the same way by every module:
     * {@code failing closed: <what>} or {@code failing open: <what>}.
     *
     * @param what what the answer does, e.g. {@code 3PID denied}
     */
    public static <T> FailureAnswer<T> of(FailureMode mode, T answer, String what) {
        return new FailureAnswer<>(answer, (mode == FailureMode.FAIL_OPEN ? "failing open: " : "failing closed: ") + what);
    }
}
