package dev.matrixpolicy.gateway.testmodules;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Where {@code test_faulty}'s {@code wait} calls and {@code test_held_build}'s builds wait until a test
 * opens it: requests or a reload held in flight for as long as a test needs.
 */
public final class Gate {
    private static volatile CountDownLatch open = new CountDownLatch(0);
    private static final Semaphore reached = new Semaphore(0);

    private Gate() {
    }

    /** Calls that come from now on wait. */
    public static void close() {
        open = new CountDownLatch(1);
        reached.drainPermits();
    }

    /** The waiting calls go on, and later ones do not wait. */
    public static void open() {
        open.countDown();
    }

    /** Whether a call came to the gate, closed or open, within {@code timeout}: each call answers one such question. */
    public static boolean reached(Duration timeout) throws InterruptedException {
        return reached.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    static void pass() throws InterruptedException {
        reached.release();
        open.await(60, TimeUnit.SECONDS);
    }
}
