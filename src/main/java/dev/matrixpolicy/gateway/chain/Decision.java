package dev.matrixpolicy.gateway.chain;

import java.util.Objects;
import java.util.Optional;

/**
 * The answer of a whole chain and which module gave it.
 *
 * @param result    the combined result
 * @param decidedBy the module whose answer stopped the chain; empty when every module fell through
 *                  (or, for rules that combine all answers, when no single module decided)
 * @param <R>       the callback's result type
 */
public record Decision<R>(R result, Optional<String> decidedBy) {
    public Decision {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(decidedBy, "decidedBy");
    }

    static <R> Decision<R> byDefault(R result) {
        return new Decision<>(result, Optional.empty());
    }

    static <R> Decision<R> by(String module, R result) {
        return new Decision<>(result, Optional.of(module));
    }
}
