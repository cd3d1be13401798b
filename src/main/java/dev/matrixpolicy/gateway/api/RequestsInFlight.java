package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.module.RepeatedWarnings;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy API's requests in flight, at most as many as 1/{@value #HEAP_SHARE} of the heap holds at
 * {@value #REQUEST_BYTES} bytes each: 603 of the 301.6 MiB the image's JVM reports in its default
 * 512 MiB container. Each request being answered holds some 127 KB of its own whatever its body
 * (Tomcat's buffers, its virtual thread's stack, the connection a forwarding module sends it on),
 * which the bodies' share ({@link RequestBodyReader.Budget#POLICY_API}) does not count, and virtual
 * threads put no bound on how many there are: measured with the image's flags, 6,000 realistic
 * events held at once by a slow policy service ran the heap out and stopped the gateway, 1,000
 * held 165 MiB of it. Our Synapse module keeps at most {@code max_connections} (100) in flight per
 * Synapse process; a deployment of many workers behind one slow service keeps as many times that.
 *
 * <p>Past the bound a request is refused 503 {@code M_LIMIT_EXCEEDED} before its body is read, which
 * our Synapse module answers by the callback's {@code on_failure}. One atomic counter, no lock: the
 * hot path pays two atomic additions.
 */
final class RequestsInFlight {
    private static final Logger log = LoggerFactory.getLogger(RequestsInFlight.class);
    /** The share of the heap the requests in flight may hold, as a divisor. */
    static final int HEAP_SHARE = 4;
    /** What one request holds of its own, whatever its body: 127 KB measured, rounded up. */
    static final long REQUEST_BYTES = 128 * 1024;
    /** Never fewer, whatever the heap: a homeserver's ordinary concurrency. */
    static final int AT_LEAST = 64;

    private final int limit;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();
    /** One WARN line a {@value RepeatedWarnings#INTERVAL_SECONDS} s of refusals, the rest DEBUG. */
    private final RepeatedWarnings refusals = new RepeatedWarnings();

    /** @param limit how many requests may be in flight at once, at least 1 */
    RequestsInFlight(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: " + limit);
        }
        this.limit = limit;
    }

    /** The bound for this JVM's heap. */
    static RequestsInFlight ofHeap() {
        return new RequestsInFlight(heldIn(Runtime.getRuntime().maxMemory()));
    }

    /** How many requests in flight a heap of {@code heapBytes} holds in its share. */
    static int heldIn(long heapBytes) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(AT_LEAST, heapBytes / HEAP_SHARE / REQUEST_BYTES));
    }

    /** Takes a place for a request; false, taking none, when every place is taken: refuse it with {@link #refusal}. */
    boolean enter() {
        if (inFlight.incrementAndGet() <= limit) {
            return true;
        }
        inFlight.decrementAndGet();
        refused.incrementAndGet();
        return false;
    }

    /** Gives back the place a request took with {@link #enter}, once it is answered. */
    void leave() {
        inFlight.decrementAndGet();
    }

    /** The answer to a request refused by {@link #enter}: 503 {@code M_LIMIT_EXCEEDED}, and a WARN line a while. */
    MatrixApiException refusal() {
        RepeatedWarnings.Line line = refusals.line(log, this);
        line.event().log(line.withOmitted("Policy API request refused, 503 M_LIMIT_EXCEEDED: " + limit + " requests are"
                + " being answered, as many as a quarter of the heap holds; our Synapse module answers the callback by its"
                + " on_failure. A policy service that answers slowly keeps them in flight"));
        return MatrixApiException.tooManyInFlight(limit);
    }

    int inFlight() {
        return inFlight.get();
    }

    int limit() {
        return limit;
    }

    long refused() {
        return refused.get();
    }

    /**
     * Registers {@code policy.requests.in.flight} and {@code policy.requests.in.flight.max} (gauges) and
     * {@code policy.requests.in.flight.refused} (a counter).
     */
    void bindTo(MeterRegistry registry) {
        Gauge.builder("policy.requests.in.flight", this, RequestsInFlight::inFlight)
                .description("Policy API requests being answered").register(registry);
        Gauge.builder("policy.requests.in.flight.max", this, RequestsInFlight::limit)
                .description("The most policy API requests answered at once, as many as a quarter of the heap holds;"
                        + " past it a request is refused 503 M_LIMIT_EXCEEDED").register(registry);
        FunctionCounter.builder("policy.requests.in.flight.refused", this, RequestsInFlight::refused)
                .description("Policy API requests refused 503 M_LIMIT_EXCEEDED because as many as the heap holds were"
                        + " being answered").register(registry);
    }
}
