package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Each link may change the arguments the next link sees; an answer that {@code stops} ends the
 * walk and is the chain's answer. When no link stops, the answer is made from the arguments as the
 * last link left them.
 *
 * <p>Example: {@code on_create_room}, where each module may modify the room creation request and
 * any module may deny it.
 */
public final class Threaded<A, R> implements ChainRule<A, R> {
    private final Predicate<? super R> stops;
    private final BiFunction<A, R, A> passOn;
    private final Function<A, R> finish;

    public Threaded(Predicate<? super R> stops, BiFunction<A, R, A> passOn, Function<A, R> finish) {
        this.stops = Objects.requireNonNull(stops, "stops");
        this.passOn = Objects.requireNonNull(passOn, "passOn");
        this.finish = Objects.requireNonNull(finish, "finish");
    }

    @Override
    public Decision<R> evaluate(List<? extends Asker<A, R>> links, A args) {
        A current = args;
        for (Asker<A, R> link : links) {
            Optional<R> answer = link.ask(current);
            if (answer.isEmpty()) {
                continue;
            }
            if (decides(answer.get())) {
                return Decision.by(link.module(), answer.get());
            }
            current = passOn.apply(current, answer.get());
        }
        return Decision.byDefault(finish.apply(current));
    }

    @Override
    public boolean decides(R answer) {
        return stops.test(answer);
    }
}
