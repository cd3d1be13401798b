package dev.matrixpolicy.gateway.api;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.coyote.Adapter;
import org.apache.coyote.Processor;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.coyote.http11.Http11Processor;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * The policy server's listener protocol: Tomcat's HTTP/1.1 over NIO, whose requests in progress are
 * held to {@link RequestsInProgress}, apart from its connections. Tomcat gives a connection the objects
 * that read and answer a request (some 40 KiB) once its first bytes come, and keeps them until the
 * request is answered, for as long as the rest of its headers come a byte at a time; between requests
 * a connection keeps only its socket's buffers.
 */
final class FederationProtocol extends Http11NioProtocol {
    private final AtomicLong evicted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    /** Set once the connector's header sizes are known, before it starts. */
    private volatile RequestsInProgress<SocketWrapperBase<?>> requests;

    void limitRequestsInProgress(int limit) {
        requests = new RequestsInProgress<>(limit, System::nanoTime, SocketWrapperBase::isClosed);
    }

    /** The connections held now; NaN before the listener starts. */
    double connections() {
        long count = getConnectionCount();
        return count < 0 ? Double.NaN : count;
    }

    /** The requests being read or answered now; NaN before the limit is set. */
    double requestsInProgress() {
        RequestsInProgress<?> set = requests;
        return set == null ? Double.NaN : set.inProgress();
    }

    double maxRequestsInProgress() {
        RequestsInProgress<?> set = requests;
        return set == null ? Double.NaN : set.limit();
    }

    /** Connections closed while they waited for the rest of their headers, to give their place to a new request. */
    long evicted() {
        return evicted.get();
    }

    /** Connections closed on their request's first bytes, every place answering a request. */
    long refused() {
        return refused.get();
    }

    @Override
    protected Processor createProcessor() {
        return new CountedProcessor(getAdapter());
    }

    private final class CountedProcessor extends Http11Processor {
        CountedProcessor(Adapter adapter) {
            super(FederationProtocol.this, adapter);
        }

        @Override
        public SocketState process(SocketWrapperBase<?> connection, SocketEvent event) throws IOException {
            if (event == SocketEvent.OPEN_READ) {
                RequestsInProgress.Admission<SocketWrapperBase<?>> admission = requests.admit(connection);
                if (admission.evicted() != null) {
                    evicted.incrementAndGet();
                    close(admission.evicted());
                }
                if (!admission.admitted()) {
                    refused.incrementAndGet();
                    return SocketState.CLOSED;
                }
            }
            SocketState state = SocketState.CLOSED;
            try {
                state = super.process(connection, event);
                return state;
            } finally {
                requests.handled(connection, stage(state));
            }
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
     * Closes another connection as Tomcat closes one past its read timeout: an error event, handled
     * once no other thread handles that connection's bytes.
     */
    @SuppressWarnings("unchecked") // the NIO endpoint's connections are all of NIO channels
    private void close(SocketWrapperBase<?> connection) {
        if (!getEndpoint().processSocket((SocketWrapperBase<NioChannel>) connection, SocketEvent.ERROR, true)) {
            connection.close();
        }
    }
}
