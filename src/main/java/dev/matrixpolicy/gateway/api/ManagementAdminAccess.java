package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.Generations;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.Filter;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.web.PathMappedEndpoints;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointProperties;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.boot.webmvc.autoconfigure.DispatcherServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.web.filter.CharacterEncodingFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * The admin side of the management server: the admin access filter, the cap on request bodies, explain,
 * the console, and the peer address of every request, which the filter's loopback rule needs. For whichever context serves
 * the actuator ({@link ManagementContextType#ANY}): the management child context on its own port,
 * or the main context when the two share one. Listed in
 * {@code META-INF/spring/...ManagementContextConfiguration.imports}, and kept out of component
 * scanning ({@code PolicyGatewayApplication}), so that the policy port never serves the console.
 */
@ManagementContextConfiguration(value = ManagementContextType.ANY, proxyBeanMethods = false)
class ManagementAdminAccess {

    @Bean
    FilterRegistrationBean<AdminAccessFilter> adminAccessFilter(Generations generations, WebEndpointProperties endpoints,
                                                                ObjectProvider<PathMappedEndpoints> served, JsonMapper json,
                                                                MeterRegistry registry) {
        // an admin endpoint Spring does not serve (not exposed) is guarded at its default path all the same; and
        // every endpoint an admin exposes besides (heapdump, env, loggers, ...) but the few left open
        PathMappedEndpoints mapped = served.getIfAvailable();
        Set<String> paths = new LinkedHashSet<>();
        AdminAccessFilter.ENDPOINTS.forEach(id -> paths.add(servedPath(mapped, endpoints, id)));
        if (mapped != null) {
            Set<String> open = new HashSet<>();
            AdminAccessFilter.OPEN_ENDPOINTS.forEach(id -> open.add(servedPath(mapped, endpoints, id)));
            mapped.getAllPaths().stream().map(ManagementAdminAccess::normalized).filter(path -> !open.contains(path)).forEach(paths::add);
        }
        FilterRegistrationBean<AdminAccessFilter> registration = new FilterRegistrationBean<>(
                new AdminAccessFilter(() -> generations.current().adminToken(), endpoints.getBasePath(), List.copyOf(paths), json,
                        registry));
        registration.setName("adminAccessFilter");
        registration.setOrder(Ordered.LOWEST_PRECEDENCE - 1); // before the body cap: a refused caller's body is never read
        return registration;
    }

    /** Actuator paths with dot segments answered 404 before any guard or Spring MVC sees them ({@link DotSegmentFilter}). */
    @Bean
    FilterRegistrationBean<DotSegmentFilter> dotSegmentFilter(JsonMapper json, WebEndpointProperties endpoints) {
        FilterRegistrationBean<DotSegmentFilter> registration = new FilterRegistrationBean<>(new DotSegmentFilter(json));
        registration.setName("dotSegmentFilter");
        registration.addUrlPatterns(endpoints.getBasePath().isEmpty() ? "/*" : endpoints.getBasePath() + "/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    /** Health details for the callers the admin access rule admits ({@link HealthDetailsAccess}). */
    @Bean
    FilterRegistrationBean<HealthDetailsAccess> healthDetailsAccess(FilterRegistrationBean<AdminAccessFilter> adminAccess,
                                                                    ObjectProvider<PathMappedEndpoints> served,
                                                                    WebEndpointProperties endpoints) {
        String path = servedPath(served.getIfAvailable(), endpoints, "health");
        FilterRegistrationBean<HealthDetailsAccess> registration = new FilterRegistrationBean<>(
                new HealthDetailsAccess(adminAccess.getFilter()));
        registration.setName("healthDetailsAccess");
        registration.addUrlPatterns(path, path + "/*");
        return registration;
    }

    /**
     * Unknown nested health paths answered 404 before Spring Boot's health endpoint fails on them
     * ({@link HealthPathFilter}); none when health is not served.
     */
    @Bean
    FilterRegistrationBean<HealthPathFilter> healthPathFilter(ObjectProvider<HealthEndpointGroups> groups,
                                                              ObjectProvider<HealthContributorRegistry> contributors,
                                                              ObjectProvider<PathMappedEndpoints> served,
                                                              WebEndpointProperties endpoints, JsonMapper json) {
        String path = servedPath(served.getIfAvailable(), endpoints, "health");
        HealthEndpointGroups knownGroups = groups.getIfAvailable();
        HealthContributorRegistry registry = contributors.getIfAvailable();
        FilterRegistrationBean<HealthPathFilter> registration = new FilterRegistrationBean<>(
                new HealthPathFilter(path, knownGroups, registry, json));
        registration.setName("healthPathFilter");
        registration.setEnabled(knownGroups != null && registry != null);
        registration.addUrlPatterns(path + "/*");
        return registration;
    }

    /**
     * Where Spring serves an endpoint, path-mapping applied as Spring applies it, or its default path
     * when Spring serves it not (not exposed, or no web endpoints at all), as the container routes it.
     */
    private static String servedPath(PathMappedEndpoints mapped, WebEndpointProperties endpoints, String id) {
        return normalized(Optional.ofNullable(mapped == null ? null : mapped.getPath(EndpointId.of(id)))
                .orElse(endpoints.getBasePath() + "/" + id));
    }

    /** A path as the container routes it: a mapping written {@code /re-read/} is served at {@code /actuator/re-read}. */
    private static String normalized(String path) {
        String single = path.replaceAll("/{2,}", "/");
        return single.length() > 1 && single.endsWith("/") ? single.substring(0, single.length() - 1) : single;
    }

    /**
     * On the actuator's paths only: where the actuator shares the policy API's context, the API reads its
     * bodies itself, after its token check. Explain reads its own, to answer as the API would.
     */
    @Bean
    FilterRegistrationBean<ManagementBodyCap> managementBodyCap(JsonMapper json, WebEndpointProperties endpoints) {
        FilterRegistrationBean<ManagementBodyCap> registration = new FilterRegistrationBean<>(
                new ManagementBodyCap(json, endpoints.getBasePath() + ExplainServlet.PATH));
        registration.setName("managementBodyCap");
        registration.addUrlPatterns(endpoints.getBasePath().isEmpty() ? "/*" : endpoints.getBasePath() + "/*");
        registration.setOrder(Ordered.LOWEST_PRECEDENCE);
        return registration;
    }

    /**
     * The management port's Spring MVC reads a request as UTF-8, as the policy port's does (Boot's
     * {@code server.servlet.encoding}, which the management port's own context goes without), never in a
     * charset its {@code Content-Type} names: Spring decodes the path with it while it writes an answer,
     * and a name no Java charset has ({@code charset="a b"}, {@code charset=}) made it throw inside our
     * error handler, a WARN line and a stack trace for each such request to any path of the port,
     * {@code /actuator/health} and unknown ones included, and a 415 or 404 that said nothing. For Spring
     * MVC's dispatcher only, by the name this context registers it under (not Boot's usual one in the
     * management port's own context): explain and the console read bytes.
     */
    @Bean
    FilterRegistrationBean<CharacterEncodingFilter> managementCharacterEncoding(ListableBeanFactory context) {
        return dispatcherOnly(new FilterRegistrationBean<>(new CharacterEncodingFilter(StandardCharsets.UTF_8.name(), true, false)),
                "managementCharacterEncoding", context);
    }

    /** A {@code Content-Type} that is a media range is read in no charset: {@link MediaRangeContentType}. */
    @Bean
    FilterRegistrationBean<MediaRangeContentType> managementMediaRangeContentType(ListableBeanFactory context) {
        return dispatcherOnly(new FilterRegistrationBean<>(new MediaRangeContentType()), "managementMediaRangeContentType", context);
    }

    /**
     * For Spring MVC's dispatcher only, by the name this context registers it under (not Boot's usual
     * one in the management port's own context), and first.
     */
    private static <F extends Filter> FilterRegistrationBean<F> dispatcherOnly(FilterRegistrationBean<F> registration, String name,
                                                                              ListableBeanFactory context) {
        registration.setName(name);
        List<String> dispatchers = context.getBeansOfType(DispatcherServletRegistrationBean.class).values().stream()
                .map(DispatcherServletRegistrationBean::getServletName).toList();
        registration.setServletNames(dispatchers);
        registration.setEnabled(!dispatchers.isEmpty()); // with no names and no paths, a filter would serve every path
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    @Bean
    ServletRegistrationBean<ExplainServlet> explain(Generations generations, RequestBodyReader bodies, JsonMapper json,
                                                    WebEndpointProperties endpoints) {
        ServletRegistrationBean<ExplainServlet> registration = new ServletRegistrationBean<>(
                new ExplainServlet(generations, bodies, json), endpoints.getBasePath() + ExplainServlet.PATH + "/*");
        registration.setName("explain");
        return registration;
    }

    /** The console, told where the endpoints it reads are served, so that moving one does not break it. */
    @Bean
    ServletRegistrationBean<AdminConsoleServlet> adminConsole(JsonMapper json, WebEndpointProperties endpoints,
                                                              ObjectProvider<PathMappedEndpoints> served) {
        PathMappedEndpoints mapped = served.getIfAvailable();
        Map<String, String> paths = new LinkedHashMap<>();
        AdminConsoleServlet.ENDPOINTS.forEach(id -> paths.put(id, servedPath(mapped, endpoints, id)));
        paths.put("explain", normalized(endpoints.getBasePath() + ExplainServlet.PATH));
        ServletRegistrationBean<AdminConsoleServlet> registration = new ServletRegistrationBean<>(new AdminConsoleServlet(json, paths),
                AdminConsoleServlet.PATH, AdminConsoleServlet.PATH + "/*");
        registration.setName("adminConsole");
        return registration;
    }

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> managementPeerAddress() {
        return factory -> factory.addContextValves(new PeerAddressValve());
    }
}
