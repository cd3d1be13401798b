package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.decisions.DecisionRecorder;
import dev.matrixpolicy.gateway.policyserver.EventAuthenticator;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.policyserver.RequestAuthenticator;
import dev.matrixpolicy.gateway.policyserver.ServerKeys;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.apache.catalina.connector.Connector;
import org.apache.tomcat.util.buf.EncodedSolidusHandling;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;
import org.apache.coyote.ProtocolHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.tomcat.TomcatProtocolHandlerCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import tools.jackson.databind.json.JsonMapper;

/**
 * The policy server's federation listener, with {@code policy-gateway.policy-server.enabled: true}:
 * a Tomcat connector of its own on {@code policy-server.port} beside the policy API's, configured as
 * that one is ({@code server.tomcat.*}, virtual threads, the JSON error answers, the connection drain
 * at shutdown) but for how many connections and requests in progress it holds
 * ({@code policy-server.max-connections}, {@code max-requests-in-progress}: {@link BoundedHttpProtocol}
 * counting every request, where the policy API's port counts only the heads awaited), and a valve
 * that keeps the two apart: the federation listener answers the {@link PolicyServerServlet}
 * paths and nothing else, and the policy API's port never answers them. The management port is
 * another server altogether.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(PolicyServerEnabled.class)
class PolicyServerListener {
    private static final Logger log = LoggerFactory.getLogger(PolicyServerListener.class);

    /**
     * The serving generation's settings: the listener, the key and the key fetching read once at startup,
     * which a reload does not change; the rooms and the rate limit read at each request.
     */
    private static PolicyGatewayProperties.PolicyServer settings(Generations generations) {
        return generations.current().properties().policyServer();
    }

    @Bean
    PolicyServerKey policyServerKey(Generations generations) {
        return settings(generations).signingKey();
    }

    @Bean
    ServerKeys serverKeys(Generations generations) {
        PolicyGatewayProperties.PolicyServer settings = settings(generations);
        Map<String, URI> addresses = new LinkedHashMap<>();
        settings.servers().stream().filter(server -> server.address() != null)
                .forEach(server -> addresses.put(server.name(), server.address()));
        return new ServerKeys(new ServerKeys.Settings(addresses,
                settings.servers().stream().filter(PolicyGatewayProperties.PolicyServer.KnownServer::trustAnyCertificate)
                        .map(PolicyGatewayProperties.PolicyServer.KnownServer::name).collect(Collectors.toSet()),
                settings.notaries().stream().map(notary -> new ServerKeys.Notary(notary.name(), notary.verifyKeys().stream()
                        .collect(Collectors.toMap(PolicyGatewayProperties.PolicyServer.VerifyKey::id,
                                PolicyGatewayProperties.PolicyServer.VerifyKey::rawKey)))).toList(),
                settings.keyCacheServers(), settings.keyFetchTimeout(), settings.blockedRanges(), settings.allowedRanges()),
                InstantSource.system());
    }

    @Bean
    PolicyServerSigning policyServerSigning(Generations generations, DecisionRecorder decisions, PolicyServerKey key,
                                            MeterRegistry registry) {
        if (!generations.current().chains().endpoint(CheckEventForSpam.TYPE).hasModules()) {
            log.warn("The policy server is enabled but no module implements check_event_for_spam: it signs every event "
                    + "of the rooms it serves");
        }
        return new PolicyServerSigning(generations, new RecordedDecisions(decisions, PolicyServerSigning.DEFAULT_REFUSAL), new EventSigner(key),
                settings(generations).signatureCacheSize(), registry);
    }

    /** The time the rate limit's buckets refill by: a bean of its own so that a test can step it. */
    @Bean
    LongSupplier policyServerTicker() {
        return System::nanoTime;
    }

    /** Reloadable: each request reads the serving generation's {@code rate-limit}, as {@link PolicyServerSigning} its rooms. */
    @Bean
    PolicyServerRateLimit policyServerRateLimit(Generations generations, LongSupplier policyServerTicker, MeterRegistry registry) {
        return new PolicyServerRateLimit(() -> settings(generations).rateLimit().bucket(), policyServerTicker, registry);
    }

    @Bean
    ServletRegistrationBean<PolicyServerServlet> policyServerServlet(Generations generations, PolicyServerKey key,
                                                                     ServerKeys serverKeys, PolicyServerSigning signing,
                                                                     PolicyServerRateLimit rateLimit, JsonMapper json,
                                                                     MeterRegistry registry) {
        String name = settings(generations).name();
        PolicyServerServlet servlet = new PolicyServerServlet(name, key,
                new RequestAuthenticator(name, serverKeys, InstantSource.system()), new EventAuthenticator(serverKeys, settings(generations).signatureCacheSize()), signing,
                rateLimit, json, registry);
        ServletRegistrationBean<PolicyServerServlet> registration = new ServletRegistrationBean<>(servlet,
                PolicyServerServlet.urlPatterns());
        registration.setName(PolicyServerServlet.NAME);
        registration.setLoadOnStartup(1);
        return registration;
    }

    /**
     * Adds the federation connector once every other customizer has shaped the factory, so it takes
     * the same connector and protocol settings as the policy API's.
     */
    @Bean
    FederationConnector federationConnector(Generations generations) {
        PolicyGatewayProperties.PolicyServer settings = settings(generations);
        return new FederationConnector(settings);
    }

    /**
     * The listener's connections against its limit: honest homeservers keep theirs open between
     * requests, so a listener that holds its limit under ordinary traffic keeps some of them waiting.
     */
    @Bean
    MeterBinder policyServerConnections(FederationConnector connector) {
        BoundedHttpProtocol protocol = connector.protocol;
        return registry -> {
            Gauge.builder("policy.server.connections", protocol, BoundedHttpProtocol::connections)
                    .description("Connections the policy server's listener holds: requests being read or answered, "
                            + "and connections kept open between requests")
                    .register(registry);
            Gauge.builder("policy.server.connections.max", protocol, BoundedHttpProtocol::getMaxConnections)
                    .description("The most connections the policy server's listener holds at once "
                            + "(policy-server.max-connections); at it, those waiting longest for a request make room for new ones")
                    .register(registry);
            Gauge.builder("policy.server.requests.in.progress", protocol, BoundedHttpProtocol::requestsInProgress)
                    .description("Connections of the policy server's listener whose request is being read or answered")
                    .register(registry);
            Gauge.builder("policy.server.requests.in.progress.max", protocol, BoundedHttpProtocol::maxRequestsInProgress)
                    .description("The most requests the policy server's listener reads or answers at once "
                            + "(policy-server.max-requests-in-progress)")
                    .register(registry);
            protocol.countClosings(registry, "policy_server", true);
        };
    }

    static final class FederationConnector implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {
        private final PolicyGatewayProperties.PolicyServer settings;
        /** The listener's protocol handler, configured once the factory's other customizers have run. */
        private final BoundedHttpProtocol protocol = new BoundedHttpProtocol();

        FederationConnector(PolicyGatewayProperties.PolicyServer settings) {
            this.settings = settings;
        }

        @Override
        public void customize(TomcatServletWebServerFactory factory) {
            Connector federation = new Connector(protocol);
            federation.setPort(settings.port());
            federation.setProperty("bindOnInit", "false");
            // The legacy check's path holds an event ID, and those of room version 3 are standard
            // base64: a '/' arrives as %2F, which Tomcat refuses by default. The servlet decodes it.
            federation.setEncodedSolidusHandling(EncodedSolidusHandling.PASS_THROUGH.getValue());
            if (factory.getUriEncoding() != null) {
                federation.setURIEncoding(factory.getUriEncoding().name());
            }
            for (TomcatProtocolHandlerCustomizer<?> customizer : factory.getProtocolHandlerCustomizers()) {
                if (customizer instanceof HeadsAwaitedLimit.Limit) {
                    continue; // the listener holds its every request within a limit of its own, below
                }
                @SuppressWarnings("unchecked") // as Boot invokes them: each takes the protocol handler it is given
                TomcatProtocolHandlerCustomizer<ProtocolHandler> typed = (TomcatProtocolHandlerCustomizer<ProtocolHandler>) customizer;
                typed.customize(federation.getProtocolHandler());
            }
            for (TomcatConnectorCustomizer customizer : factory.getConnectorCustomizers()) {
                customizer.customize(federation);
            }
            if (settings.address() != null) {
                protocol.setAddress(settings.address());
            }
            // after server.tomcat.max-connections, which is the policy API's (its callers are known)
            PolicyGatewayProperties.PolicyServer.ListenerLimits limits = settings.listenerLimits(
                    (long) protocol.getMaxHttpRequestHeaderSize() + protocol.getMaxHttpResponseHeaderSize());
            protocol.setMaxConnections(limits.connections());
            protocol.limitRequestsInProgress(limits.requestsInProgress());
            federation.setPort(settings.port());
            factory.addAdditionalConnectors(federation);
            factory.addContextCustomizers(context -> context.getPipeline().addValve(new ListenerRouting(federation)));
        }

        @Override
        public int getOrder() {
            return Ordered.LOWEST_PRECEDENCE;
        }
    }

    /**
     * Keeps the federation listener and the policy API apart: on the federation connector only the
     * policy server's paths are answered, on every other connector none of them; anything else is
     * 404, answered as Matrix error JSON by the error report.
     *
     * <p>On the federation connector, a request answered without its body read to the end (a 413, a
     * 503 for the bodies' budget, a 404) loses its connection with the answer. Tomcat would otherwise
     * read the rest first, up to {@code maxSwallowSize} (2 MiB), for as long as each byte comes within
     * the connection timeout: anyone on the internet could hold connections so, answered long ago.
     * A homeserver's PDU is read whole, so its connection stays open for the next; a client that sends
     * the rest of a refused body may see its connection reset before it reads the answer, which costs
     * only a client that sends what it was told is too large. {@link RequestTimeoutValve} does the same
     * for a 408 on every connector.
     */
    static final class ListenerRouting extends ValveBase {
        private final Connector federation;

        ListenerRouting(Connector federation) {
            super(true);
            this.federation = federation;
        }

        @Override
        public void invoke(Request request, Response response) throws IOException, ServletException {
            boolean onFederation = request.getConnector() == federation;
            try {
                String path = PolicyApiServlet.routedPath(request);
                boolean federationPath = PolicyServerServlet.serves(path) || path.startsWith("/_matrix/policy/");
                if (onFederation != federationPath) {
                    response.sendError(HttpServletResponse.SC_NOT_FOUND);
                    return;
                }
                getNext().invoke(request, response);
            } finally {
                if (onFederation && !request.getCoyoteRequest().isFinished()) {
                    sendSuccessBeforeItTurnsIntoAnError(response);
                    request.getCoyoteRequest().action(ActionCode.DISABLE_SWALLOW_INPUT, null);
                }
            }
        }

        /**
         * Tomcat takes input no longer swallowed for an error, and makes an answer not yet sent a 500:
         * a success that left a body unread (an {@code OPTIONS} or a {@code GET} that carries one) is
         * therefore sent first, saying that the connection closes.
         */
        private static void sendSuccessBeforeItTurnsIntoAnError(Response response) {
            if (response.isCommitted() || response.getStatus() >= 400) {
                return;
            }
            response.setHeader(HttpHeaders.CONNECTION, "close");
            try {
                response.flushBuffer();
            } catch (IOException gone) {
                // the client is gone: nothing is left to send it
            }
        }
    }
}
