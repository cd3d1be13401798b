package dev.matrixpolicy.gateway.policylist;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * A response body that is closed when no byte of it arrives for {@code stall}. The JDK client's
 * request timeout ends once the headers arrive; this bounds the body too, without bounding a large
 * body that keeps coming (a room's full state can take a while, and is fine as long as it moves).
 */
final class StallGuard extends FilterInputStream {
    private final long stallNanos;
    private final Thread watchdog;
    private volatile long lastProgress = System.nanoTime();
    private volatile boolean stalled;

    StallGuard(InputStream body, Duration stall) {
        super(body);
        this.stallNanos = stall.toNanos();
        this.watchdog = Thread.ofVirtual().name("policy-room-stall-guard").start(this::watch);
    }

    /** Whether the body was closed because it stopped moving. */
    boolean stalled() {
        return stalled;
    }

    @Override
    public int read() throws IOException {
        int read = super.read();
        lastProgress = System.nanoTime();
        return read;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int read = super.read(buffer, offset, length);
        lastProgress = System.nanoTime();
        return read;
    }

    @Override
    public void close() throws IOException {
        watchdog.interrupt();
        super.close();
    }

    private void watch() {
        try {
            long left;
            while ((left = stallNanos - (System.nanoTime() - lastProgress)) > 0) {
                Thread.sleep(Duration.ofNanos(left));
            }
            stalled = true;
            // Closing the JDK client's body stream wakes up a read blocked on it.
            in.close();
        } catch (InterruptedException | IOException done) {
            // Closed by the reader, or already broken: nothing to guard any more.
        }
    }
}
