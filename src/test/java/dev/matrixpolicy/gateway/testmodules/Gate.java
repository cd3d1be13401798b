package dev.matrixpolicy.gateway.testmodules;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Where {@code test_faulty}'s {@code wait} calls wait until a test opens it: requests held in flight for as long as a test needs. */
public final class Gate {
    private static volatile CountDownLatch open = new CountDownLatch(0);

    private Gate() {
    }

    /** Calls that come from now on wait. */
    public static void close() {
        open = new CountDownLatch(1);
    }

    /** The waiting calls go on, and later ones do not wait. */
    public static void open() {
        open.countDown();
    }

    static void pass() throws InterruptedException {
        open.await(60, TimeUnit.SECONDS);
    }
}
