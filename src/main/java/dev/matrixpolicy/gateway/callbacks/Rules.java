package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.chain.ChainRule;
import dev.matrixpolicy.gateway.chain.FirstDecisive;
import dev.matrixpolicy.gateway.chain.RunAll;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * The chain rules of the Synapse docs, by the names the docs give them. Each callback's
 * {@code TYPE} names one of these (or, for the few callbacks with a rule of their own, builds it
 * from the generic rules in {@link dev.matrixpolicy.gateway.chain}).
 */
public final class Rules {
    private Rules() {
    }

    /** "If a callback returns NOT_SPAM, Synapse falls through to the next one." */
    public static <A> ChainRule<A, SpamVerdict> notSpamFallsThrough() {
        return new FirstDecisive<>(verdict -> verdict == SpamVerdict.NOT_SPAM, SpamVerdict.NOT_SPAM);
    }

    /** "If a callback returns True, Synapse falls through to the next one." Everything passing means True. */
    public static <A> ChainRule<A, Boolean> trueFallsThrough() {
        return new FirstDecisive<>(Boolean::booleanValue, true);
    }

    /** "If a callback returns False, Synapse falls through to the next one." Everything passing means False. */
    public static <A> ChainRule<A, Boolean> falseFallsThrough() {
        return new FirstDecisive<>(value -> !value, false);
    }

    /** "If a callback returns RegistrationBehaviour.ALLOW, Synapse falls through to the next one." */
    public static <A> ChainRule<A, RegistrationBehaviour> allowFallsThrough() {
        return new FirstDecisive<>(behaviour -> behaviour == RegistrationBehaviour.ALLOW, RegistrationBehaviour.ALLOW);
    }

    /** "If a callback returns None, Synapse falls through to the next one." Nobody answering means None. */
    public static <A, T> ChainRule<A, Optional<T>> noneFallsThrough() {
        return new FirstDecisive<>(Optional::isEmpty, Optional.empty());
    }

    /**
     * {@code get_media_config_for_user}: the docs say "if a callback returns None, Synapse falls
     * through", but Synapse's code tests truthiness, so an empty map falls through too.
     */
    public static <A> ChainRule<A, Optional<ObjectNode>> noneOrEmptyFallsThrough() {
        return new FirstDecisive<>(config -> config.map(ObjectNode::isEmpty).orElse(true), Optional.empty());
    }

    /** "Synapse runs them all in order." */
    public static <A> ChainRule<A, RunAll.Completed> runAll() {
        return new RunAll<>();
    }

    /**
     * Background update controller: only one module answers (see the category's chain assembly);
     * without it Synapse uses its built-in value.
     */
    public static <A> ChainRule<A, Integer> soleModuleOr(int builtIn) {
        return new FirstDecisive<>(value -> false, builtIn);
    }
}
