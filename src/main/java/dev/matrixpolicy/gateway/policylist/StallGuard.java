package dev.matrixpolicy.gateway.policylist;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * A response body that is closed when no byte of it arrives for {@code stall}, or when it has not
 * ended by a deadline, if it has one. The JDK client's request timeout ends once the headers arrive;
 * this bounds the body too, without bounding a large body that keeps coming (a room's full state can
 * take a while, and is fine as long as it moves). A deadline also ends a body that trickles in, a
 * byte at a time just within {@code stall}.
 */
final class StallGuard extends FilterInputStream {
    private final long stallNanos;
    private final long started = System.nanoTime();
    private final long deadlineNanos;
    private final Thread watchdog;
    private volatile long lastProgress = started;
    private volatile boolean stalled;
    private volatile boolean overdue;

    /** A body that may take as long as it keeps moving. */
    StallGuard(InputStream body, Duration stall) {
        this(body, stall, null);
    }

    /** A body that must also have ended {@code deadline} after it started; null for no deadline. */
    StallGuard(InputStream body, Duration stall, Duration deadline) {
        super(body);
        this.stallNanos = stall.toNanos();
        this.deadlineNanos = deadline == null ? Long.MAX_VALUE : deadline.toNanos();
        this.watchdog = Thread.ofVirtual().name("policy-room-stall-guard").start(this::watch);
    }

    /** Whether the body was closed because it stopped moving. */
    boolean stalled() {
        return stalled;
    }

    /** Whether the body was closed because it had not ended by its deadline. */
    boolean overdue() {
        return overdue;
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
            while ((left = Math.min(stallNanos - (System.nanoTime() - lastProgress), deadlineNanos - (System.nanoTime() - started))) > 0) {
                Thread.sleep(Duration.ofNanos(left));
            }
            if (System.nanoTime() - lastProgress >= stallNanos) {
                stalled = true;
            } else {
                overdue = true;
            }
            // Closing the JDK client's body stream wakes up a read blocked on it.
            in.close();
        } catch (InterruptedException | IOException done) {
            // Closed by the reader, or already broken: nothing to guard any more.
        }
    }
}
