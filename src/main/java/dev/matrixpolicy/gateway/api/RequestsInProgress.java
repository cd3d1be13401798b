package dev.matrixpolicy.gateway.api;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The requests a listener is reading or answering, at most {@code limit} at once. A connection counts
 * from the first bytes of a request to its answer, and not while it waits, idle, for the next: an idle
 * connection costs a listener a third of what one with a request in progress does, and homeservers keep
 * theirs open between requests.
 *
 * <p>When every place is taken, a new request takes the place of the one that has waited longest for
 * the rest of its request line and headers, which a homeserver sends at once and a client holding
 * places drips; with none waiting so, every place is answering and the new request is refused.
 *
 * @param <C> a connection, told apart by identity
 */
final class RequestsInProgress<C> {
    /** Whether a request may go on, and the connection that gave it its place, if any. */
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
    private final LongSupplier clock;
    private final Predicate<C> closed;
    private final Map<C, Held> held = new IdentityHashMap<>();

    /**
     * @param limit  how many requests may be in progress at once, at least 1
     * @param clock  nanoseconds, for which request has waited longest
     * @param closed whether a connection is closed already: a connection that closes without its
     *               request being done is forgotten once its place is wanted
     */
    RequestsInProgress(int limit, LongSupplier clock, Predicate<C> closed) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: " + limit);
        }
        this.limit = limit;
        this.clock = clock;
        this.closed = closed;
    }

    /**
     * Bytes of a request came on {@code connection}, which are handled next: a request already in
     * progress goes on; a new one takes a free place, else the place of the request waiting longest
     * for its headers, whose connection the caller closes, else it is refused.
     */
    synchronized Admission<C> admit(C connection) {
        Held current = held.get(connection);
        if (current != null) {
            held.put(connection, new Held(current.waiting(), current.since(), true));
            return new Admission<>(true, null);
        }
        if (held.size() >= limit) {
            held.keySet().removeIf(closed);
        }
        C evicted = null;
        if (held.size() >= limit) {
            evicted = longestWaiting();
            if (evicted == null) {
                return new Admission<>(false, null);
            }
            held.remove(evicted);
        }
        held.put(connection, Held.ARRIVING);
        return new Admission<>(true, evicted);
    }

    /** The bytes that came on {@code connection} are handled, and left its request at {@code stage}. */
    synchronized void handled(C connection, Stage stage) {
        Held current = held.get(connection);
        if (current == null) {
            return; // evicted while its bytes were handled, or never admitted
        }
        switch (stage) {
            case READING_HEADERS -> held.put(connection,
                    new Held(true, current.waiting() ? current.since() : clock.getAsLong(), false));
            case ANSWERING -> held.put(connection, new Held(false, 0, false));
            case DONE -> held.remove(connection);
        }
    }

    synchronized int inProgress() {
        return held.size();
    }

    int limit() {
        return limit;
    }

    private C longestWaiting() {
        C oldest = null;
        long oldestSince = Long.MAX_VALUE;
        for (Map.Entry<C, Held> entry : held.entrySet()) {
            Held candidate = entry.getValue();
            if (candidate.evictable() && (oldest == null || candidate.since() - oldestSince < 0)) {
                oldest = entry.getKey();
                oldestSince = candidate.since();
            }
        }
        return oldest;
    }
}
