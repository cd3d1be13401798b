package dev.matrixpolicy.gateway.module;

import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Changes to the meter registry that a scrape sees whole or not at all: a reload replacing a module
 * instance removes its meters and registers its successor's under the same names and tags. A scrape
 * reading the registry in between would see neither; one reading a meter's series while it changes
 * can see both the old and the new under one set of labels, and Prometheus' writer then refuses the
 * whole scrape ({@code DuplicateLabelsException}, micrometer#6851, unfixed in Micrometer 1.17.2). So
 * a change takes the write side of one lock and a scrape the read side: scrapes run together, and a
 * change waits for those running (milliseconds) and holds the next ones back while it lasts
 * (microseconds).
 */
public final class MeterChanges {
    private final ReadWriteLock lock = new ReentrantReadWriteLock(true); // fair: a stream of scrapes cannot starve a reload

    /** Makes {@code change} to the registry with no scrape reading it meanwhile. */
    public void change(Runnable change) {
        lock.writeLock().lock();
        try {
            change.run();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Reads the registry between changes, never during one. */
    public <T> T read(Supplier<T> read) {
        lock.readLock().lock();
        try {
            return read.get();
        } finally {
            lock.readLock().unlock();
        }
    }
}
