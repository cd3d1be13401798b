package dev.matrixpolicy.gateway.testmodules;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Where {@code test_faulty}'s {@code wait} and {@code stuck} calls and {@code test_held_build}'s builds wait until a test
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

    /**
     * As {@link #pass}, but an interruption does not end the wait (it is kept for the caller): a call
     * deadlocked, as far as the gateway can tell, until the gate opens.
     */
    static void passDespiteInterruption() {
        CountDownLatch latch = open;
        reached.release();
        boolean interrupted = false;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (latch.getCount() > 0 && System.nanoTime() < until) {
            try {
                latch.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ignored) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
