package dev.matrixpolicy.gateway.dispatch;

import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.chain.Trace;
import java.util.List;
import java.util.Map;

/**
 * One callback, ready to answer: read the arguments, walk the chain, describe the result.
 * The REST layer sees callbacks only through this interface.
 */
public interface CallbackEndpoint<A, R> {

    Category category();

    String name();

    A read(JsonArgs json);

    /** @throws dev.matrixpolicy.gateway.chain.ModuleFailedException when a module failed closed */
    Decision<R> decide(A args);

    /**
     * Asks the chain as {@link #decide} does and tells every step: which modules were asked, what each
     * replied and how long it took, and the decision or the fail-closed failure. Not counted in metrics.
     */
    Trace<R> explain(A args);

    ResultType<R> resultType();

    /** The ordered module instances, per chain; most callbacks have one chain, keyed {@code ""}. */
    Map<String, List<String>> chains();

    /**
     * Whether asking this callback asks any module, so that it is worth a homeserver's request: not when
     * its chains are empty, nor when a notification's are of shadow entries only, which it never calls.
     */
    default boolean hasModules() {
        return chains().values().stream().anyMatch(modules -> !modules.isEmpty());
    }

    /** Whether an explain may ask this callback: a decision, not a notification (asking one would notify its modules). */
    default boolean explainable() {
        return resultType() != ResultTypes.NOTHING;
    }

    default String path() {
        return category().wireName() + "/" + name();
    }
}
