package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.decisions.DecisionRecorder;
import jakarta.servlet.Filter;
import java.util.List;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.servlet.filter.OrderedRequestContextFilter;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.boot.webmvc.autoconfigure.DispatcherServletAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.CharacterEncodingFilter;
import org.springframework.web.filter.RequestContextFilter;
import org.springframework.web.filter.ServerHttpObservationFilter;
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
     * Spring MVC's filters serve Spring MVC's dispatcher only: the request context (locale and
     * request holders), the character encoding of form parameters, and the {@code http.server.requests}
     * observation. The policy API and the policy server are plain servlets that read bytes, use neither
     * holder, and are measured by the {@code policy.*} metrics by callback and endpoint, where
     * {@code http.server.requests} could only have tagged them {@code uri="UNKNOWN"}. On their path the
     * filters were pure cost: 7 of the 47 µs of CPU a {@code user_may_invite} took (docs/performance.md).
     * Boot maps the first two to every path when no registration names them; these registrations do.
     */
    @Bean
    FilterRegistrationBean<CharacterEncodingFilter> characterEncodingFilterRegistration(CharacterEncodingFilter filter) {
        return springMvcOnly(new FilterRegistrationBean<>(filter), "characterEncodingFilter");
    }

    /** Boot leaves the request context filter to this registration (it makes one only when none is registered). */
    @Bean
    FilterRegistrationBean<RequestContextFilter> requestContextFilterRegistration() {
        return springMvcOnly(new FilterRegistrationBean<>(new OrderedRequestContextFilter()), "requestContextFilter");
    }

    /** Boot registers the observation filter itself, for every path: this narrows that registration. */
    @Bean
    static BeanPostProcessor observationFilterServesSpringMvcOnly() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String beanName) {
                if (bean instanceof FilterRegistrationBean<?> registration
                        && registration.getFilter() instanceof ServerHttpObservationFilter) {
                    registration.setUrlPatterns(List.of());
                    registration.setServletNames(List.of(DispatcherServletAutoConfiguration.DEFAULT_DISPATCHER_SERVLET_BEAN_NAME));
                }
                return bean;
            }
        };
    }

    private static <F extends Filter> FilterRegistrationBean<F> springMvcOnly(FilterRegistrationBean<F> registration, String name) {
        registration.setName(name);
        registration.setServletNames(List.of(DispatcherServletAutoConfiguration.DEFAULT_DISPATCHER_SERVLET_BEAN_NAME));
        if (registration.getFilter() instanceof Ordered ordered) {
            registration.setOrder(ordered.getOrder());
        }
        return registration;
    }
}
