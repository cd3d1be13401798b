package dev.matrixpolicy.gateway.chain;

import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Whether the module being asked is asked for an explanation ({@link ChainRunner.CompiledChain#explain})
 * rather than for a decision. An explanation asks the modules for real, so that it shows what they
 * answer; a module that keeps state between calls (a rate limit's buckets, a window of recent
 * messages) answers it from that state without changing it, as if asked a question nobody acts on.
 *
 * <p>Bound for the walk's duration, on the thread that walks the chain and on the thread a link with
 * a deadline runs on; false everywhere else.
 */
public final class DryRun {
    private static final ScopedValue<Boolean> ACTIVE = ScopedValue.newInstance();

    private DryRun() {
    }

    /** True while the current call is part of an explanation: change no state. */
    public static boolean active() {
        return ACTIVE.orElse(false);
    }

    /** Runs {@code work} as a dry run. */
    static <T> T during(Supplier<T> work) {
        return ScopedValue.where(ACTIVE, true).call(work::get);
    }

    /** {@code work}, to run on another thread, carrying the caller's dry run (if any) there. */
    static <T> Callable<T> carried(Supplier<T> work) {
        return active() ? () -> during(work) : work::get;
    }
}
