package dev.matrixpolicy.gateway.chain;

import java.util.Objects;

/**
 * What a {@link Link.Mode#SHADOW shadow} link replied on one walk, kept so that a decision log can
 * show what the module would have done before it is enforced.
 *
 * @param module      the module instance name
 * @param reply       its answer, or how it failed
 * @param wouldDecide whether the answer would have stopped the walk and decided, had the link been
 *                    enforced ({@link ChainRule#decides}); false for a failure
 * @param <R>         the callback's result type
 */
public record ShadowAnswer<R>(String module, Reply<R> reply, boolean wouldDecide) {
    public ShadowAnswer {
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(reply, "reply");
    }
}
