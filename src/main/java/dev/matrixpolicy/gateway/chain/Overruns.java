package dev.matrixpolicy.gateway.chain;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The calls of one module instance still running past their deadline: interrupted, but not stopping
 * (deadlocked, looping, or waiting in a way that ignores interruption). Each keeps its thread.
 *
 * <p>One per module instance, shared by each of its {@link Link links}: whatever callback a call
 * answered and whichever compiled chain made it, the instance's calls count together against
 * {@link ChainRunner#MAX_OVERRUNNING_CALLS}. A module stuck for good therefore holds at most that many
 * threads, however many callbacks it answers and however often its chains are compiled again (a
 * reload keeps an unchanged instance, and with it this count).
 */
public final class Overruns {
    private final AtomicInteger running = new AtomicInteger();

    /** How many of the instance's calls run past their deadline now. */
    public int running() {
        return running.get();
    }

    void started() {
        running.incrementAndGet();
    }

    void ended() {
        running.decrementAndGet();
    }

    @Override
    public String toString() {
        return "Overruns[" + running.get() + " running]";
    }
}
