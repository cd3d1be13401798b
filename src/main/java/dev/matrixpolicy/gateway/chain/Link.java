package dev.matrixpolicy.gateway.chain;

import java.time.Duration;
import java.util.Objects;

/**
 * One position in a chain: a configured module instance and its implementation of one callback.
 *
 * @param module        the module instance name, unique within the configuration
 * @param callback      the module's implementation of the callback
 * @param onFailure     what happens to the chain when this link throws or times out
 * @param timeout       the longest this link may take; {@code null} runs it inline with no deadline,
 *                      which is only right for modules that never block
 * @param mode          whether this link's answers count ({@link Mode#ENFORCE}) or are only recorded
 * @param overruns      the module instance's calls running past their deadline, shared by every link of
 *                      that instance
 * @param <C>           the callback interface
 */
public record Link<C>(String module, C callback, FailurePolicy onFailure, Duration timeout, Mode mode, Overruns overruns) {

    /** Whether a link's answers count. */
    public enum Mode {
        /** The link takes part in the chain as its rule says. */
        ENFORCE,
        /**
         * The link is asked like any other (same deadline, same thread), its answer or failure is
         * recorded ({@link Decision#shadowAnswers()}, {@link ChainObserver#shadowAnswered}), and the
         * chain goes on as if it had fallen through: it never decides, and its failure never fails the
         * chain, whatever its {@link FailurePolicy}. Notification chains ({@link RunAll}) do not call it.
         */
        SHADOW;

        /** The name in configuration and in JSON: {@code enforce} or {@code shadow}. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Link {
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(callback, "callback");
        Objects.requireNonNull(onFailure, "onFailure");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(overruns, "overruns");
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout of module " + module + " must be positive");
        }
    }

    /** The only link of a module instance, or the first: its overruns counted from none. */
    public Link(String module, C callback, FailurePolicy onFailure, Duration timeout, Mode mode) {
        this(module, callback, onFailure, timeout, mode, new Overruns());
    }

    /** An enforcing link, the first of its module instance. */
    public Link(String module, C callback, FailurePolicy onFailure, Duration timeout) {
        this(module, callback, onFailure, timeout, Mode.ENFORCE);
    }

    public boolean shadow() {
        return mode == Mode.SHADOW;
    }
}
