package dev.matrixpolicy.gateway.chain;

import java.util.List;

/**
 * Notification callbacks: every link is called, in order, whatever the others did. A failing
 * module never stops the rest, whatever its failure policy: the failure is observed and counted.
 *
 * <p>{@link Link.Mode#SHADOW Shadow} links are not called at all: a notification has no answer to
 * try out, only side effects, and a shadow module must not have those.
 */
public final class RunAll<A> implements ChainRule<A, RunAll.Completed> {

    /** What one module's link answers when it returned normally. */
    public static final Completed DELIVERED = new Completed(1, 0);

    /**
     * @param notified how many modules were called (shadow links are not)
     * @param failed   how many of them failed
     */
    public record Completed(int notified, int failed) {
    }

    @Override
    public Decision<Completed> evaluate(List<? extends Asker<A, Completed>> links, A args) {
        int notified = 0;
        int failed = 0;
        for (Asker<A, Completed> link : links) {
            if (link.shadow()) {
                continue;
            }
            notified++;
            try {
                if (link.ask(args).isEmpty()) {
                    failed++;
                }
            } catch (ModuleFailedException alreadyObserved) {
                failed++;
            }
        }
        return Decision.byDefault(new Completed(notified, failed));
    }

    /** A shadow module must have no side effects, and a notification is nothing else. */
    @Override
    public boolean asksShadowLinks() {
        return false;
    }

    /** No module decides a notification. */
    @Override
    public boolean decides(Completed answer) {
        return false;
    }
}
