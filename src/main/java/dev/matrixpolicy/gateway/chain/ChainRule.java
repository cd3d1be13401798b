package dev.matrixpolicy.gateway.chain;

import java.util.List;

/**
 * How the answers of a chain's links combine into one decision, and when the walk stops.
 * Each Synapse callback names exactly one rule; each rule is written once.
 *
 * @param <A> the callback's arguments
 * @param <R> the callback's result
 */
public interface ChainRule<A, R> {

    /**
     * Walks the links in order. Links are asked lazily: a rule that stops early never asks
     * the links after the one that decided.
     */
    Decision<R> evaluate(List<? extends Asker<A, R>> links, A args);

    /**
     * Whether this answer, from an enforcing link, stops the walk and decides: in Synapse's words,
     * does not fall through. Rules use it themselves; the runner uses it to tell which shadow answers
     * would have decided.
     */
    boolean decides(R answer);

    /**
     * Whether this rule asks {@link Link.Mode#SHADOW shadow} links at all: every rule but
     * {@link RunAll}, whose notifications have no answer to try out.
     */
    default boolean asksShadowLinks() {
        return true;
    }
}
