package dev.matrixpolicy.gateway.modules.auditwebhook;

import java.time.Duration;

/** Waits for something that happens on another thread: retries an assertion until it holds or time is up. */
final class Eventually {
    /** Generous: delivery is asynchronous, and the build machine may be busy. */
    static final Duration LIMIT = Duration.ofSeconds(15);

    private Eventually() {
    }

    static void eventually(Runnable assertion) {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting", interrupted);
            }
        }
    }
}
