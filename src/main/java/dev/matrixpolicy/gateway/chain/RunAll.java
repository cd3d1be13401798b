package dev.matrixpolicy.gateway.chain;

import java.util.List;

/**
 * Notification callbacks: every link is called, in order, whatever the others did. A failing
 * module never stops the rest, whatever its failure policy: the failure is observed and counted.
 */
public final class RunAll<A> implements ChainRule<A, RunAll.Completed> {

    /** What one module's link answers when it returned normally. */
    public static final Completed DELIVERED = new Completed(1, 0);

    /**
     * @param notified how many modules were called
     * @param failed   how many of them failed
     */
    public record Completed(int notified, int failed) {
    }

    @Override
    public Decision<Completed> evaluate(List<? extends Asker<A, Completed>> links, A args) {
        int failed = 0;
        for (Asker<A, Completed> link : links) {
            try {
                if (link.ask(args).isEmpty()) {
                    failed++;
                }
            } catch (ModuleFailedException alreadyObserved) {
                failed++;
            }
        }
        return Decision.byDefault(new Completed(links.size(), failed));
    }
}
