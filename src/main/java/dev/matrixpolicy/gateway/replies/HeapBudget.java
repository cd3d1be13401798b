package dev.matrixpolicy.gateway.replies;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * How many bytes of the heap the bodies or replies of one kind that are held at once may take, all
 * together: a share of the heap that many callers draw on concurrently (virtual threads put no bound
 * on how many), so that a flood of large ones is refused, each caller in its own terms, rather than
 * run the heap out and every request with it. Each body or reply holds a {@link Share}, which takes
 * bytes as they are counted and gives them all back once it is done; a share refused keeps nothing.
 * The one counter of the kind: the policy server's and the management listener's request bodies, and
 * every module backend's replies.
 */
public final class HeapBudget {
    /** No budget: every share is granted. */
    public static final HeapBudget NONE = new HeapBudget(Long.MAX_VALUE);

    private final long bytes;
    private final AtomicLong held = new AtomicLong();

    /** @param bytes the most the shares may hold at once, at least 1 */
    public HeapBudget(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("a heap budget holds at least one byte, not " + bytes);
        }
        this.bytes = bytes;
    }

    /** {@code 1 / divisor} of the heap's maximum size ({@code -Xmx}, or the JVM's choice from the machine's memory). */
    public static HeapBudget ofHeap(int divisor) {
        return new HeapBudget(Runtime.getRuntime().maxMemory() / divisor);
    }

    /** The most the shares may hold at once. */
    public long bytes() {
        return bytes;
    }

    /** The most the shares may hold, as refusals name it: {@code 37.7 MiB}. */
    public String size() {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }

    /** What the shares hold now. */
    public long held() {
        return held.get();
    }

    /** A new share, holding nothing yet: what one body or one reply takes. */
    public Share share() {
        return new Share();
    }

    /**
     * Takes {@code size} only when the shares would then leave at least {@code free} of the budget: a
     * refused take never adds to the count even for a moment, so it cannot make a concurrent take that fits fail.
     */
    private boolean take(long size, long free) {
        if (this == NONE) {
            return true;
        }
        long now;
        do {
            now = held.get();
            if (size > bytes - free - now) {
                return false;
            }
        } while (!held.compareAndSet(now, now + size));
        return true;
    }

    /**
     * What one body or reply holds of the budget: taken in steps as the body comes and grows, given
     * back at once when it is done. Used by one thread at a time.
     */
    public final class Share {
        private long held;

        private Share() {
        }

        /**
         * Takes {@code size} more bytes, when the budget has them.
         *
         * @return false, taking nothing, when the shares would hold more than the budget
         */
        public boolean take(long size) {
            return takeLeaving(size, 0);
        }

        /**
         * Takes {@code size} more bytes only when the budget keeps {@code free} of its bytes after: for a
         * charge that may be far more than what it stands for, which must leave room for exact ones.
         *
         * @return false, taking nothing, when the shares would leave less than {@code free}
         */
        public boolean takeLeaving(long size, long free) {
            if (size <= 0 || HeapBudget.this == NONE) {
                return true; // NONE counts nothing: no shared counter to contend on, nothing to give back
            }
            if (!HeapBudget.this.take(size, free)) {
                return false;
            }
            held += size;
            return true;
        }

        /** Gives back {@code size} of what this share holds: a buffer made garbage before the share is done. */
        public void giveBack(long size) {
            long given = Math.min(size, held);
            held -= given;
            HeapBudget.this.held.addAndGet(-given);
        }

        /** The budget this share draws on. */
        public HeapBudget budget() {
            return HeapBudget.this;
        }

        /** What this share holds now. */
        public long held() {
            return held;
        }

        /** Gives back all this share holds; it may take again after. */
        public void giveBack() {
            giveBack(held);
        }

        /**
         * {@code body}, taking from this share each read's bytes as they come, before handing them on:
         * what a body holds is what has come, not what it announces. A read the budget cannot give its
         * bytes throws what {@code refused} makes.
         */
        public InputStream counting(InputStream body, Supplier<? extends RuntimeException> refused) {
            return new FilterInputStream(body) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    counted(b < 0 ? 0 : 1);
                    return b;
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = super.read(buffer, offset, length);
                    counted(n);
                    return n;
                }

                private void counted(int n) {
                    if (!take(n)) {
                        throw refused.get();
                    }
                }
            };
        }
    }
}
