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
 * @param <C>           the callback interface
 */
public record Link<C>(String module, C callback, FailurePolicy onFailure, Duration timeout) {
    public Link {
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(callback, "callback");
        Objects.requireNonNull(onFailure, "onFailure");
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout of module " + module + " must be positive");
        }
    }
}
