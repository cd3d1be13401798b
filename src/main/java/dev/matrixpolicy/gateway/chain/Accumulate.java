package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BinaryOperator;
import java.util.function.Predicate;

/**
 * Every link is asked and the answers are folded together, in order, from an identity value.
 * An answer that {@code shortCircuits} stops the walk and becomes the chain's answer as it is.
 *
 * <p>Examples: presence routing merges the maps of every module; {@code get_interested_users}
 * concatenates sets until a module answers "all users"; extra unsigned fields are merged with the
 * last module winning per field.
 */
public final class Accumulate<A, R> implements ChainRule<A, R> {
    private final R identity;
    private final BinaryOperator<R> combine;
    private final Predicate<? super R> shortCircuits;

    public Accumulate(R identity, BinaryOperator<R> combine, Predicate<? super R> shortCircuits) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.combine = Objects.requireNonNull(combine, "combine");
        this.shortCircuits = Objects.requireNonNull(shortCircuits, "shortCircuits");
    }

    public Accumulate(R identity, BinaryOperator<R> combine) {
        this(identity, combine, answer -> false);
    }

    @Override
    public Decision<R> evaluate(List<? extends Asker<A, R>> links, A args) {
        R combined = identity;
        for (Asker<A, R> link : links) {
            Optional<R> answer = link.ask(args);
            if (answer.isEmpty()) {
                continue;
            }
            if (decides(answer.get())) {
                return Decision.by(link.module(), answer.get());
            }
            combined = combine.apply(combined, answer.get());
        }
        return Decision.byDefault(combined);
    }

    /** Only a short-circuiting answer decides; the others are combined. */
    @Override
    public boolean decides(R answer) {
        return shortCircuits.test(answer);
    }
}
