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
     * Asks the module.
     *
     * @return the module's answer, or empty when the module failed and its link fails open,
     *         which every rule treats as an abstention
     * @throws ModuleFailedException when the module failed and its link fails closed
     */
    Optional<R> ask(A args);
}
