package dev.matrixpolicy.gateway.chain;

import java.util.Optional;

/**
 * One link as a rule sees it: a module that can be asked the question.
 *
 * @param <A> the callback's arguments
 * @param <R> the callback's result
 */
public interface Asker<A, R> {

    String module();

    /**
     * Whether this is a {@link Link.Mode#SHADOW shadow} link. Its {@link #ask} always abstains, so most
     * rules need not know; a rule that must not call it at all ({@link RunAll}) skips it.
     */
    default boolean shadow() {
        return false;
    }

    /**
     * Asks the module.
     *
     * @return the module's answer, or empty when the module failed and its link fails open, or
     *         whatever a shadow link's module did; every rule treats empty as an abstention
     * @throws ModuleFailedException when the module failed and its (enforcing) link fails closed
     */
    Optional<R> ask(A args);
}
