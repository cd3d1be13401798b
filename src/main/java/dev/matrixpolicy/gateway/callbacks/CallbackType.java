package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.chain.ChainRule;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Everything the gateway knows about one Synapse callback, in one place.
 *
 * @param category        the Synapse category
 * @param name            the Synapse callback name, e.g. {@code user_may_invite}
 * @param moduleInterface the Java interface a module implements to take part in this callback's chain
 * @param call            how to ask one module, e.g. {@code UserMayInvite::userMayInvite}
 * @param fromFunction    turns a plain function into an implementation of the interface (used by
 *                        modules that decide at startup which callbacks they implement, like {@code static})
 * @param reader          reads and validates the callback's JSON arguments
 * @param resultType      the callback's result type
 * @param rule            the chain rule from the Synapse docs
 */
public record CallbackType<M, A, R>(Category category, String name, Class<M> moduleInterface,
                                    BiFunction<M, A, R> call, Function<Function<A, R>, M> fromFunction,
                                    Function<JsonArgs, A> reader, ResultType<R> resultType, ChainRule<A, R> rule) {
    public CallbackType {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(moduleInterface, "moduleInterface");
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(fromFunction, "fromFunction");
        Objects.requireNonNull(reader, "reader");
        Objects.requireNonNull(resultType, "resultType");
        Objects.requireNonNull(rule, "rule");
    }

    /** {@code category/name}, as in the URL path. */
    public String path() {
        return category.wireName() + "/" + name;
    }

    @Override
    public String toString() {
        return path();
    }
}
