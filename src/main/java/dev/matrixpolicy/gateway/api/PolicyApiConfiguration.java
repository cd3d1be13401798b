package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.decisions.DecisionRecorder;
import dev.matrixpolicy.gateway.matrix.BoundedNames;
import dev.matrixpolicy.gateway.matrix.EventJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.jackson.autoconfigure.JsonFactoryBuilderCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonFactoryBuilder;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.json.JsonMapper;

/** Mounts {@link PolicyApiServlet} beside Spring MVC's dispatcher, which keeps every other path. */
@Configuration(proxyBeanMethods = false)
class PolicyApiConfiguration {

    /** The policy API's requests waiting for the rest of their heads: at most what a sixteenth of the heap holds. */
    @Bean
    HeadsAwaitedLimit policyApiHeadsAwaited(MeterRegistry registry) {
        return new HeadsAwaitedLimit("policy_api", 16, registry);
    }

    /** The policy API's requests in flight: at most what a quarter of the heap holds, each request's own memory. */
    @Bean
    RequestsInFlight policyApiRequestsInFlight() {
        return RequestsInFlight.ofHeap();
    }

    /** {@code policy.requests.in.flight}, its {@code .max} and its {@code .refused}. */
    @Bean
    MeterBinder policyRequestsInFlightMetrics(RequestsInFlight inFlight) {
        return inFlight::bindTo;
    }

    @Bean
    ServletRegistrationBean<PolicyApiServlet> policyApiServlet(Generations generations, RequestBodyReader bodies,
                                                               JsonMapper json, RequestErrors errors,
                                                               DecisionRecorder decisions, RequestsInFlight inFlight) {
        ServletRegistrationBean<PolicyApiServlet> registration = new ServletRegistrationBean<>(
                new PolicyApiServlet(generations, bodies, json, errors, decisions, inFlight), PolicyApiServlet.urlPatterns());
        registration.setName(PolicyApiServlet.NAME);
        registration.setLoadOnStartup(1);
        return registration;
    }

    /**
     * What the policy API's request bodies and their estimated trees hold of their share of the heap
     * ({@link RequestBodyReader.Budget#POLICY_API}), and the share: how near requests are to being
     * refused 503 {@code M_LIMIT_EXCEEDED}, which {@value RequestErrors#NAME} counts.
     */
    @Bean
    MeterBinder policyRequestBodyMemory() {
        return registry -> RequestBodyReader.Budget.POLICY_API.bindTo(registry, "policy.requests.body.memory",
                "the policy API's request bodies being answered, bodies and estimated trees,", "a request is refused 503 M_LIMIT_EXCEEDED");
    }

    /**
     * Spring's mapper, which reads every body and writes every answer, takes any event a homeserver
     * can send ({@link EventJson}): Jackson's own limits would call a deep or long one malformed.
     */
    @Bean
    JsonFactoryBuilderCustomizer eventSizedJson() {
        return factory -> factory.streamReadConstraints(EventJson.readLimits().build())
                .streamWriteConstraints(EventJson.writeLimits());
    }

    /**
     * ...and keeps the names it reads for about a mebibyte of documents ({@link BoundedNames}), Spring Boot's
     * factory settings applied as Boot applies them: the actuator reads a JSON body on every operation
     * with it, a caller's with no token on the open ones too ({@code /actuator/health}), and Jackson's
     * factory would keep each of its names, up to the body cap's 4 KB, for the life of the mapper.
     */
    @Bean
    JsonFactory boundedNamesJsonFactory(ObjectProvider<JsonFactoryBuilderCustomizer> customizers) {
        JsonFactoryBuilder factory = JsonFactory.builder();
        customizers.orderedStream().forEach(customizer -> customizer.customize(factory));
        return BoundedNames.of(factory);
    }

    /** ...and writes the trees it was given back without recursion, however deep (Spring adds module beans to its mapper). */
    @Bean
    JacksonModule eventJsonWriter() {
        return EventJson.module();
    }

    /** Every request on the policy port knows its connection's peer address, for the loopback-only rule. */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> peerAddressOfEveryRequest() {
        return factory -> factory.addContextValves(new PeerAddressValve());
    }
}
