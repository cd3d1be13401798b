package dev.matrixpolicy.gateway.api;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * A listener's requests in progress, held within a limit. Tomcat gives a request the objects that
 * read and answer it (some 40 KiB) from its first bytes to its answer, for as long as the rest of its
 * request line and headers come a byte at a time; a connection idle between requests keeps only its
 * socket's buffers, a third of that.
 *
 * <p>Two ways to count ({@link Counting}): every request in progress, where a new request past the
 * limit is refused; or only those waiting for the rest of their heads, where a request whose head
 * came whole never counts, is never refused, and touches nothing here. Either way, a request that
 * would take a place past the limit takes that of the request that has waited longest for the rest
 * of its head, whose connection the caller closes: an HTTP client sends its head at once, so the
 * request waiting on it is the one dripping it.
 *
 * @param <C> a connection, told apart by identity
 */
final class RequestsInProgress<C> {
    /** What the limit counts. */
    enum Counting {
        /** every request from its first bytes to its answer: past the limit, a request is refused */
        EVERY_REQUEST,
        /** the requests waiting for the rest of their request line or headers: none is refused */
        HEADS_AWAITED
    }

    /** Whether a request may go on, and the connection closed to give it a place, if any. */
    record Admission<C>(boolean admitted, C evicted) {
    }

    /** Where a request stands once its connection's bytes so far are handled. */
    enum Stage {
        /** its request line or headers are not all here yet */
        READING_HEADERS,
        /** read, and answered later */
        ANSWERING,
        /** answered, or its connection closed */
        DONE
    }

    /**
     * @param waiting whether the request waits for the rest of its request line or headers
     * @param since   when it began to wait so, in the clock's nanoseconds
     * @param running whether its connection's bytes are being handled now: such a request is never
     *                evicted, since closing its connection is for the thread handling them
     */
    private record Held(boolean waiting, long since, boolean running) {
        static final Held ARRIVING = new Held(false, 0, true);

        boolean evictable() {
            return waiting && !running;
        }
    }

    private final int limit;
    private final Counting counting;
    private final LongSupplier clock;
    private final Predicate<C> closed;
    private final Map<C, Held> held = new IdentityHashMap<>();

    /**
     * @param limit    how many requests may be counted at once, at least 1
     * @param counting which requests count
     * @param clock    nanoseconds, for which request has waited longest
     * @param closed   whether a connection is closed already: a connection that closes without its
     *                 request being done is forgotten once its place is wanted
     */
    RequestsInProgress(int limit, Counting counting, LongSupplier clock, Predicate<C> closed) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: " + limit);
        }
        this.limit = limit;
        this.counting = counting;
        this.clock = clock;
        this.closed = closed;
    }

    /** Whether bytes of a request that does not wait for its head are told to {@link #admit} and {@link #handled}. */
    boolean countsEveryRequest() {
        return counting == Counting.EVERY_REQUEST;
    }

    /**
     * Bytes of a request came on {@code connection}, which are handled next: a request already counted
     * goes on; a new one takes a free place, else the place of the request waiting longest for its
     * head, else it is refused. Counting {@link Counting#HEADS_AWAITED}, only a connection whose
     * request waits for its head comes here.
     */
    synchronized Admission<C> admit(C connection) {
        Held current = held.get(connection);
        if (current != null) {
            held.put(connection, new Held(current.waiting(), current.since(), true));
            return new Admission<>(true, null);
        }
        if (!countsEveryRequest()) {
            return new Admission<>(true, null); // evicted while it waited: its close comes next
        }
        C evicted = makeRoom();
        if (held.size() >= limit) {
            return new Admission<>(false, null);
        }
        held.put(connection, Held.ARRIVING);
        return new Admission<>(true, evicted);
    }

    /**
     * The bytes that came on {@code connection} are handled, and left its request at {@code stage}.
     *
     * @return the connection closed to make room for this one's wait, if any, for the caller to close
     */
    synchronized C handled(C connection, Stage stage) {
        Held current = held.get(connection);
        switch (stage) {
            case READING_HEADERS -> {
                if (current == null && countsEveryRequest()) {
                    return null; // evicted while its bytes were handled
                }
                C evicted = current == null ? makeRoom() : null;
                held.put(connection, new Held(true, current != null && current.waiting() ? current.since() : clock.getAsLong(), false));
                return evicted;
            }
            case ANSWERING -> {
                if (current != null && countsEveryRequest()) {
                    held.put(connection, new Held(false, 0, false));
                } else {
                    held.remove(connection);
                }
            }
            case DONE -> held.remove(connection);
        }
        return null;
    }

    synchronized int inProgress() {
        return held.size();
    }

    int limit() {
        return limit;
    }

    /** With every place taken, frees the place of the request waiting longest for its head, if one does. */
    private C makeRoom() {
        if (held.size() < limit) {
            return null;
        }
        held.keySet().removeIf(closed);
        if (held.size() < limit) {
            return null;
        }
        C oldest = null;
        long oldestSince = 0;
        for (Map.Entry<C, Held> entry : held.entrySet()) {
            Held candidate = entry.getValue();
            if (candidate.evictable() && (oldest == null || candidate.since() - oldestSince < 0)) {
                oldest = entry.getKey();
                oldestSince = candidate.since();
            }
        }
        if (oldest != null) {
            held.remove(oldest);
        }
        return oldest;
    }
}
