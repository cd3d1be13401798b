package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer of a whole chain and which module gave it.
 *
 * @param result        the combined result
 * @param decidedBy     the module whose answer stopped the chain; empty when every module fell through
 *                      (or, for rules that combine all answers, when no single module decided)
 * @param shadowAnswers what the chain's {@link Link.Mode#SHADOW shadow} links replied on this walk, in
 *                      order; none of them counted. Empty (and shared) when the chain has none.
 * @param <R>           the callback's result type
 */
public record Decision<R>(R result, Optional<String> decidedBy, List<ShadowAnswer<R>> shadowAnswers) {
    public Decision {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(decidedBy, "decidedBy");
        shadowAnswers = List.copyOf(shadowAnswers);
    }

    /** A decision of a walk that asked no shadow link. */
    public Decision(R result, Optional<String> decidedBy) {
        this(result, decidedBy, List.of());
    }

    static <R> Decision<R> byDefault(R result) {
        return new Decision<>(result, Optional.empty());
    }

    static <R> Decision<R> by(String module, R result) {
        return new Decision<>(result, Optional.of(module));
    }

    Decision<R> withShadowAnswers(List<ShadowAnswer<R>> answers) {
        return answers.isEmpty() ? this : new Decision<>(result, decidedBy, answers);
    }
}
