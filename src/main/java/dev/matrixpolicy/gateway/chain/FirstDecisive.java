package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Synapse's most common rule: links are asked in order, an answer that "falls through" moves on
 * to the next link, and the first answer that does not fall through is the chain's answer.
 * When every link falls through (or the chain is empty) the default answer is used.
 *
 * <p>Examples: spam checks fall through on {@code NOT_SPAM}; allow-checks fall through on
 * {@code true}; {@code check_username_for_spam} falls through on {@code false}; Optional-returning
 * callbacks fall through on an empty answer.
 */
public final class FirstDecisive<A, R> implements ChainRule<A, R> {
    private final Predicate<? super R> fallsThrough;
    private final R whenAllFallThrough;

    public FirstDecisive(Predicate<? super R> fallsThrough, R whenAllFallThrough) {
        this.fallsThrough = Objects.requireNonNull(fallsThrough, "fallsThrough");
        this.whenAllFallThrough = Objects.requireNonNull(whenAllFallThrough, "whenAllFallThrough");
    }

    @Override
    public Decision<R> evaluate(List<? extends Asker<A, R>> links, A args) {
        for (Asker<A, R> link : links) {
            Optional<R> answer = link.ask(args);
            if (answer.isPresent() && decides(answer.get())) {
                return Decision.by(link.module(), answer.get());
            }
        }
        return Decision.byDefault(whenAllFallThrough);
    }

    @Override
    public boolean decides(R answer) {
        return !fallsThrough.test(answer);
    }
}
