package dev.matrixpolicy.gateway.files;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A check that runs every interval on a daemon thread of its own, and its orderly stop: the one way a
 * watcher of a file or URL looks at it again. The interval runs from the end of one check to the
 * start of the next, so a slow check never piles up behind itself.
 *
 * <p>{@link #close()} marks the check as {@linkplain #closing() closing}, interrupts the check under
 * way and waits a while for it, so that nothing is logged after it returns. What an interrupted check
 * finds then (a fetch ends "interrupted" or "closed", a channel's read with {@link
 * java.nio.channels.ClosedByInterruptException}, the {@linkplain Settling#waited settle wait} returns
 * false) is the closing, not the file or URL: a check cut short asks {@link #closing()} and, when it
 * is, reports nothing, neither a failure nor a good read.
 *
 * <p>A check reports its own failures; one that throws all the same (an {@link OutOfMemoryError}
 * while it reads, say) is logged here at WARN and runs again after the interval. Its executor would
 * end the schedule for good, silently, and the watcher's status would go on showing its last success.
 */
public final class PeriodicCheck implements AutoCloseable {
    /**
     * How long {@link #close()} waits for the check under way. The configuration's watcher is closed
     * at SIGTERM before the connection drain, so a reload under way delays the stop by this much at most:
     * the Helm chart's grace period counts it (HelmChartTest).
     */
    public static final Duration STOPPING = Duration.ofSeconds(5);
    private static final Logger log = LoggerFactory.getLogger(PeriodicCheck.class);

    private final String threadName;
    private final Duration firstDelay;
    private final Duration interval;
    private ScheduledExecutorService thread;
    private volatile boolean closing;

    /**
     * A check not yet started: its thread exists from {@link #start} on.
     *
     * @param threadName the thread's name, e.g. {@code policy-source-community-bans}
     * @param firstDelay from {@link #start} to the first check
     * @param interval   from the end of one check to the start of the next
     */
    public PeriodicCheck(String threadName, Duration firstDelay, Duration interval) {
        this.threadName = Objects.requireNonNull(threadName, "threadName");
        this.firstDelay = Objects.requireNonNull(firstDelay, "firstDelay");
        this.interval = Objects.requireNonNull(interval, "interval");
    }

    /**
     * Starts running {@code check}; a check closed already never starts.
     *
     * @throws IllegalStateException when it was started already
     */
    public synchronized void start(Runnable check) {
        Objects.requireNonNull(check, "check");
        if (thread != null) {
            throw new IllegalStateException(threadName + " is started already");
        }
        if (closing) {
            return;
        }
        thread = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(threadName));
        // in nanoseconds, saturated: an interval shorter than a millisecond, cut to none, is one the executor refuses
        thread.scheduleWithFixedDelay(() -> runAgainAfterAFailure(check), TimeUnit.NANOSECONDS.convert(firstDelay),
                TimeUnit.NANOSECONDS.convert(interval), TimeUnit.NANOSECONDS);
    }

    private void runAgainAfterAFailure(Runnable check) {
        try {
            check.run();
        } catch (RuntimeException | Error unexpected) {
            if (!closing) { // else cut short by close(): the interruption, not what the check looks at
                log.warn("{}: a check failed and runs again after its interval: {}", threadName, unexpected.toString());
            }
        }
    }

    /**
     * Whether {@link #close()} was called: a check that fails now was cut short by the closing, and
     * reports nothing.
     */
    public boolean closing() {
        return closing;
    }

    /** Stops the checks: the one under way is interrupted, and waited for a while. */
    @Override
    public void close() {
        ScheduledExecutorService stopping;
        synchronized (this) {
            closing = true; // before the interruption, so that the check it cuts short sees it
            stopping = thread;
        }
        if (stopping == null) {
            return;
        }
        stopping.shutdownNow();
        try {
            stopping.awaitTermination(STOPPING.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
