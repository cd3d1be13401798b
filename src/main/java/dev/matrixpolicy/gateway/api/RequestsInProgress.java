package dev.matrixpolicy.gateway.api;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
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
 * request waiting on it is the one dripping it. Counting every request, a request whose body has
 * not come whole {@link #BODY_GRACE} after it began may give its place too, for the same reason:
 * otherwise heads sent whole with bodies that never come would hold every place for as long as
 * each read may wait.
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

    /**
     * How long a request's body may take to come whole before the request may give its place to a new
     * one: a homeserver sends its body with its head, and a reverse proxy that buffers requests sends
     * it whole. Short enough that places held by bodies never sent turn over four times a second,
     * faster than a flood of 1,000 such connections a second takes them (bench/policy-server-burst.md).
     */
    static final Duration BODY_GRACE = Duration.ofMillis(250);

    /** Whether a request may go on, and the place it took, if another request gave it. */
    record Admission<C>(boolean admitted, Eviction<C> evicted) {
    }

    /**
     * A request closed to give its place to another: its connection, and whether its connection's bytes
     * are being handled (a body being read), which the caller ends by ending the body, or not (a head
     * awaited), which the caller closes.
     */
    record Eviction<C>(C connection, boolean running) {
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
     * @param waiting      whether the request waits for the rest of its request line or headers
     * @param since        when it began to wait so, or when it began if it does not, in the clock's nanoseconds
     * @param running      whether its connection's bytes are being handled now: such a request gives its
     *                     place only while {@code awaitingBody} says so
     * @param awaitingBody whether the request is being answered but its body has not come whole
     */
    private record Held(boolean waiting, long since, boolean running, BooleanSupplier awaitingBody) {
        boolean evictable(long now) {
            return running ? now - since >= BODY_GRACE.toNanos() && awaitingBody.getAsBoolean() : waiting;
        }
    }

    private static final BooleanSupplier NEVER = () -> false;

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
     * head or its body, else it is refused. Counting {@link Counting#HEADS_AWAITED}, only a connection
     * whose request waits for its head comes here.
     *
     * @param awaitingBody whether the request, once being answered, still waits for its body
     */
    synchronized Admission<C> admit(C connection, BooleanSupplier awaitingBody) {
        Held current = held.get(connection);
        if (current != null) {
            held.put(connection, new Held(current.waiting(), current.since(), true, awaitingBody));
            return new Admission<>(true, null);
        }
        if (!countsEveryRequest()) {
            return new Admission<>(true, null); // evicted while it waited: its close comes next
        }
        Eviction<C> evicted = makeRoom();
        if (held.size() >= limit) {
            return new Admission<>(false, null);
        }
        held.put(connection, new Held(false, clock.getAsLong(), true, awaitingBody));
        return new Admission<>(true, evicted);
    }

    /**
     * The bytes that came on {@code connection} are handled, and left its request at {@code stage}.
     *
     * @return the request closed to make room for this one's wait, if any, for the caller to close
     */
    synchronized Eviction<C> handled(C connection, Stage stage) {
        Held current = held.get(connection);
        switch (stage) {
            case READING_HEADERS -> {
                if (current == null && countsEveryRequest()) {
                    return null; // evicted while its bytes were handled
                }
                Eviction<C> evicted = current == null ? makeRoom() : null;
                held.put(connection, new Held(true, current != null && current.waiting() ? current.since() : clock.getAsLong(),
                        false, NEVER));
                return evicted;
            }
            case ANSWERING -> {
                if (current != null && countsEveryRequest()) {
                    held.put(connection, new Held(false, current.since(), false, NEVER));
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

    /**
     * With every place taken, frees the place of the request waiting longest for its head or its body,
     * if one does.
     */
    private Eviction<C> makeRoom() {
        if (held.size() < limit) {
            return null;
        }
        held.keySet().removeIf(closed);
        if (held.size() < limit) {
            return null;
        }
        long now = clock.getAsLong();
        Map.Entry<C, Held> oldest = null;
        for (Map.Entry<C, Held> entry : held.entrySet()) {
            Held candidate = entry.getValue();
            if ((oldest == null || candidate.since() - oldest.getValue().since() < 0) && candidate.evictable(now)) {
                oldest = entry;
            }
        }
        if (oldest == null) {
            return null;
        }
        Eviction<C> evicted = new Eviction<>(oldest.getKey(), oldest.getValue().running()); // before the entry goes
        held.remove(evicted.connection());
        return evicted;
    }
}
