package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.tomcat.TomcatProtocolHandlerCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;

/**
 * Makes a port's protocol handler a {@link BoundedHttpProtocol} that holds at most a share of the heap
 * in requests waiting for the rest of their heads: the policy API's port (a sixteenth), and through
 * {@link ManagementErrorReports} the management port (a thirty-second). Anyone who can reach a port
 * can open connections and drip their heads, some 55 KiB of heap each for as long as they like; a
 * homeserver, a Prometheus or a probe sends its head whole, and is never counted nor refused. Past
 * the share, the request that has waited longest for its head is closed unanswered, counted in
 * {@code policy_connections_closed_total{listener, reason="evicted"}}.
 *
 * <p>Ordered last, so that the header sizes it reads are the ones Spring Boot's own customizers set.
 */
final class HeadsAwaitedLimit implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {
    private final String listener;
    private final int heapDivisor;
    private final MeterRegistry registry;

    /**
     * @param listener    the port's name in the metric's {@code listener} tag
     * @param heapDivisor the share of the heap the port's requests waiting for their heads may hold, as a divisor
     */
    HeadsAwaitedLimit(String listener, int heapDivisor, MeterRegistry registry) {
        this.listener = listener;
        this.heapDivisor = heapDivisor;
        this.registry = registry;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.setProtocol(BoundedHttpProtocol.class.getName());
        factory.addProtocolHandlerCustomizers(new Limit());
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }

    /** The limit itself, which the policy server's listener, taking this port's other customizers, leaves out. */
    final class Limit implements TomcatProtocolHandlerCustomizer<BoundedHttpProtocol> {
        @Override
        public void customize(BoundedHttpProtocol protocol) {
            protocol.limitHeadsAwaited(PolicyGatewayProperties.requestsHeldIn(Runtime.getRuntime().maxMemory() / heapDivisor,
                    (long) protocol.getMaxHttpRequestHeaderSize() + protocol.getMaxHttpResponseHeaderSize()));
            protocol.countClosings(registry, listener, false);
        }
    }
}
