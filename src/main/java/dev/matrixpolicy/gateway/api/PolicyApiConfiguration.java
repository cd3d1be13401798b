package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.decisions.DecisionRecorder;
import io.micrometer.observation.ObservationPredicate;
import java.util.Set;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.observation.ServerRequestObservationContext;
import tools.jackson.databind.json.JsonMapper;

/** Mounts {@link PolicyApiServlet} beside Spring MVC's dispatcher, which keeps every other path. */
@Configuration(proxyBeanMethods = false)
class PolicyApiConfiguration {

    @Bean
    ServletRegistrationBean<PolicyApiServlet> policyApiServlet(Generations generations, RequestBodyReader bodies,
                                                               JsonMapper json, RequestErrors errors,
                                                               DecisionRecorder decisions) {
        ServletRegistrationBean<PolicyApiServlet> registration = new ServletRegistrationBean<>(
                new PolicyApiServlet(generations, bodies, json, errors, decisions), PolicyApiServlet.urlPatterns());
        registration.setName(PolicyApiServlet.NAME);
        registration.setLoadOnStartup(1);
        return registration;
    }

    /** Every request on the policy port knows its connection's peer address, for the loopback-only rule. */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> peerAddressOfEveryRequest() {
        return factory -> factory.addContextValves(new PeerAddressValve());
    }

    /**
     * Leaves the policy API and the policy server out of {@code http.server.requests}. That metric
     * cannot name the servlets' routes (each would be {@code uri="UNKNOWN"}) and cost a fifth of every
     * request in profiling; the {@code policy.*} metrics measure them by callback and endpoint instead.
     */
    @Bean
    ObservationPredicate policyApiIsMeasuredByPolicyMetrics() {
        Set<String> measuredByPolicyMetrics = Set.of(PolicyApiServlet.NAME, PolicyServerServlet.NAME);
        return (name, context) -> !(context instanceof ServerRequestObservationContext server
                && measuredByPolicyMetrics.contains(server.getCarrier().getHttpServletMapping().getServletName()));
    }
}
