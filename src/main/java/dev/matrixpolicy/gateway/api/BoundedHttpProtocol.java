package dev.matrixpolicy.gateway.api;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.coyote.Adapter;
import org.apache.coyote.Processor;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.coyote.http11.Http11Processor;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.NioEndpoint.NioSocketWrapper;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tomcat's HTTP/1.1 over NIO, with its requests in progress held within {@link RequestsInProgress}:
 * every port's requests waiting for the rest of their heads ({@link #limitHeadsAwaited}), and the
 * policy server's listener's every request ({@link #limitRequestsInProgress}). Without it, Tomcat
 * keeps a request whose head comes a byte at a time for as long as each byte comes within the
 * connection timeout, some 55 KiB of heap each: a few thousand such connections, which anyone who can
 * reach a port may open, ran the heap out and stopped the gateway.
 *
 * <p>And its connections held within their limit without locking newcomers out ({@link #makeRoom}):
 * Tomcat accepts no connection past {@code maxConnections} until one closes, and one that sends
 * nothing is closed only after the connection timeout, so whoever held every connection silent kept
 * everyone else out.
 *
 * <p>Public, with a constructor of no arguments, for Spring Boot's factory makes its connector's
 * protocol handler from the class name.
 */
public final class BoundedHttpProtocol extends Http11NioProtocol {
    private static final Logger log = LoggerFactory.getLogger(BoundedHttpProtocol.class);
    /** How long a connection must have waited for a request, since it opened or its last answer, before it is closed for room. */
    static final Duration IDLE_GRACE = Duration.ofSeconds(1);
    /** How often a listener at its connection limit is looked at, and room made. */
    private static final Duration ROOM_CHECKS = Duration.ofMillis(100);
    /**
     * The request attribute set on a request whose body's reading was ended to give its place to
     * another, so that its answer says so rather than that its body ended early.
     */
    static final String BODY_CUT_FOR_ROOM = BoundedHttpProtocol.class.getName() + ".bodyCutForRoom";

    private final AtomicLong evicted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong idleClosed = new AtomicLong();
    private volatile ScheduledFuture<?> roomChecks;
    /** The processors handling counted requests' bytes now, by connection: an evicted one's request is marked {@link #BODY_CUT_FOR_ROOM}. */
    private final Map<SocketWrapperBase<?>, CountedProcessor> running = new ConcurrentHashMap<>();
    /** Set once the connector's settings are known, before it starts. */
    private volatile RequestsInProgress<SocketWrapperBase<?>> requests;

    /** At most {@code limit} requests wait for the rest of their heads at once; none is refused. */
    void limitHeadsAwaited(int limit) {
        requests = new RequestsInProgress<>(limit, RequestsInProgress.Counting.HEADS_AWAITED, System::nanoTime,
                SocketWrapperBase::isClosed);
    }

    /** At most {@code limit} requests are read or answered at once; past it, a request is refused. */
    void limitRequestsInProgress(int limit) {
        requests = new RequestsInProgress<>(limit, RequestsInProgress.Counting.EVERY_REQUEST, System::nanoTime,
                SocketWrapperBase::isClosed);
    }

    /**
     * The connections held now; NaN before the listener starts. Not Tomcat's count of them, which
     * counts the acceptor too while it waits for the next connection.
     */
    double connections() {
        return getConnectionCount() < 0 ? Double.NaN : getEndpoint().getConnections().size();
    }

    /** The requests counted now; NaN before a limit is set. */
    double requestsInProgress() {
        RequestsInProgress<?> set = requests;
        return set == null ? Double.NaN : set.inProgress();
    }

    double maxRequestsInProgress() {
        RequestsInProgress<?> set = requests;
        return set == null ? Double.NaN : set.limit();
    }

    /** Connections closed while they waited for the rest of their heads, to give their place to another request. */
    long evicted() {
        return evicted.get();
    }

    /** Connections closed on their request's first bytes, every place answering a request. */
    long refused() {
        return refused.get();
    }

    /** Connections closed while they waited for a request, to make room for new ones at the connection limit. */
    long idleClosed() {
        return idleClosed.get();
    }

    /**
     * Counts this protocol's closings in {@code policy.connections.closed}, tagged with {@code listener}:
     * those evicted, those idle, and those refused if {@code refuses} (where every request counts).
     */
    void countClosings(MeterRegistry registry, String listener, boolean refuses) {
        String description = "Connections a listener closed unanswered to hold its requests and connections within their limits, "
                + "by reason: evicted (it waited longest for the rest of its head when another request needed its place), idle "
                + "(it waited longest for a request while the listener held all the connections it may), refused (a new request "
                + "came while every request in progress was being read or answered; policy server only)";
        FunctionCounter.builder("policy.connections.closed", this, BoundedHttpProtocol::evicted).description(description)
                .tags("listener", listener, "reason", "evicted").register(registry);
        FunctionCounter.builder("policy.connections.closed", this, BoundedHttpProtocol::idleClosed).description(description)
                .tags("listener", listener, "reason", "idle").register(registry);
        if (refuses) {
            FunctionCounter.builder("policy.connections.closed", this, BoundedHttpProtocol::refused).description(description)
                    .tags("listener", listener, "reason", "refused").register(registry);
        }
    }

    @Override
    public void start() throws Exception {
        super.start();
        long every = ROOM_CHECKS.toMillis();
        roomChecks = getUtilityExecutor().scheduleWithFixedDelay(() -> {
            try {
                makeRoom();
            } catch (RuntimeException bug) { // a task that throws is never run again: the port would lock out newcomers again
                log.error("Could not make room for new connections on {}", getName(), bug);
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() throws Exception {
        ScheduledFuture<?> checks = roomChecks;
        if (checks != null) {
            checks.cancel(false);
        }
        super.stop();
    }

    /**
     * At the connection limit, closes the connections that have waited longest for a request (silent
     * since they opened, or kept open since their last answer), at least {@link #IDLE_GRACE} each,
     * until a sixteenth of the places is free: new connections are accepted again, and whoever holds
     * connections open must keep them busy to keep them. A client may close an idle connection as
     * Tomcat does past its keep-alive timeout; one being read, answered or awaiting the rest of its
     * head (which {@link RequestsInProgress} bounds) is never closed here.
     */
    void makeRoom() {
        int max = getMaxConnections();
        if (max < 0 || getConnectionCount() < max) {
            return;
        }
        Set<SocketWrapperBase<NioChannel>> held = getEndpoint().getConnections();
        long toClose = held.size() - (max - Math.max(1, max / 16));
        if (toClose <= 0) {
            return;
        }
        long idleSince = System.currentTimeMillis() - IDLE_GRACE.toMillis();
        held.stream()
                .map(NioSocketWrapper.class::cast)
                .filter(connection -> waitsForARequest(connection) && lastActive(connection) <= idleSince)
                .sorted(Comparator.comparingLong(BoundedHttpProtocol::lastActive))
                .limit(toClose)
                .forEach(connection -> {
                    idleClosed.incrementAndGet();
                    closeUnanswered(connection);
                });
    }

    /** No request held (a processor is kept while a head or an answer is unfinished) and the poller waits for its bytes. */
    private static boolean waitsForARequest(NioSocketWrapper connection) {
        return !connection.isClosed() && connection.getCurrentProcessor() == null
                && (connection.interestOps() & SelectionKey.OP_READ) != 0;
    }

    private static long lastActive(NioSocketWrapper connection) {
        return Math.max(connection.getLastRead(), connection.getLastWrite());
    }

    @Override
    protected Processor createProcessor() {
        return new CountedProcessor(getAdapter());
    }

    private final class CountedProcessor extends Http11Processor {
        /**
         * Whether this processor's connection waits for the rest of a head: Tomcat keeps a processor
         * with its connection until the request is answered, and only one thread at a time handles
         * a connection's bytes.
         */
        private boolean waiting;

        CountedProcessor(Adapter adapter) {
            super(BoundedHttpProtocol.this, adapter);
        }

        @Override
        public SocketState process(SocketWrapperBase<?> connection, SocketEvent event) throws IOException {
            RequestsInProgress<SocketWrapperBase<?>> counted = requests;
            if (counted == null) {
                return super.process(connection, event);
            }
            boolean counts = waiting || counted.countsEveryRequest();
            if (counts && event == SocketEvent.OPEN_READ) {
                RequestsInProgress.Admission<SocketWrapperBase<?>> admission = counted.admit(connection, this::awaitingBody);
                closeForRoom(admission.evicted());
                if (!admission.admitted()) {
                    refused.incrementAndGet();
                    return SocketState.CLOSED;
                }
            }
            SocketState state = SocketState.CLOSED;
            if (counts) {
                running.put(connection, this);
            }
            try {
                state = super.process(connection, event);
                return state;
            } finally {
                if (counts) {
                    running.remove(connection, this);
                    // the mark has been read by now, or came as the request ended: the next request this processor
                    // serves, on this connection or another, must not read it
                    getRequest().getAttributes().remove(BODY_CUT_FOR_ROOM);
                }
                RequestsInProgress.Stage stage = stage(state);
                waiting = stage == RequestsInProgress.Stage.READING_HEADERS;
                if (counts || waiting) {
                    closeForRoom(counted.handled(connection, stage));
                }
            }
        }

        /**
         * Whether the request is being answered while its body has not come whole. Read from another
         * thread, without a happens-before edge: a stale answer only means a place given a little late,
         * or a body that came in time ended (the answer is still written).
         */
        private boolean awaitingBody() {
            return getRequest().getRequestProcessor().getStage() == org.apache.coyote.Constants.STAGE_SERVICE
                    && !isRequestBodyFullyRead();
        }

        /** Tomcat keeps a connection's processor ({@code LONG}) for an asynchronous answer or an unfinished head. */
        private RequestsInProgress.Stage stage(SocketState state) {
            if (state != SocketState.LONG) {
                return RequestsInProgress.Stage.DONE;
            }
            return isAsync() ? RequestsInProgress.Stage.ANSWERING : RequestsInProgress.Stage.READING_HEADERS;
        }
    }

    /**
     * Ends another request, if any, to give its place to a new one. One waiting for its head is closed
     * ({@link #closeUnanswered}). One whose body is being read has its connection's input ended: its
     * reading thread wakes to the end of the stream, and the request ends as one whose client left.
     */
    @SuppressWarnings("unchecked") // the NIO endpoint's connections are all of NIO channels
    private void closeForRoom(RequestsInProgress.Eviction<SocketWrapperBase<?>> eviction) {
        if (eviction == null) {
            return;
        }
        evicted.incrementAndGet();
        SocketWrapperBase<NioChannel> connection = (SocketWrapperBase<NioChannel>) eviction.connection();
        if (eviction.running()) {
            // marked before its input ends: its thread, blocked reading the body, reads the mark once it wakes;
            // never once that thread is done with the connection (the map's own lock orders the two)
            running.computeIfPresent(connection, (key, processor) -> {
                processor.getRequest().setAttribute(BODY_CUT_FOR_ROOM, Boolean.TRUE);
                return processor;
            });
            SocketChannel channel = connection.getSocket().getIOChannel();
            try {
                if (channel != null) {
                    channel.shutdownInput();
                }
            } catch (IOException alreadyClosed) {
                // its client left: the request is ending anyway
            }
        } else {
            closeUnanswered(connection);
        }
    }

    /**
     * Closes a connection whose bytes no thread handles now, as Tomcat closes one past its read timeout:
     * an error event, handled once no other thread handles that connection's bytes.
     */
    private void closeUnanswered(SocketWrapperBase<NioChannel> connection) {
        if (!getEndpoint().processSocket(connection, SocketEvent.ERROR, true)) {
            connection.close();
        }
    }
}
