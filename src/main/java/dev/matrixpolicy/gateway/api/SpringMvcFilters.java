package dev.matrixpolicy.gateway.api;

import jakarta.servlet.Filter;
import java.util.List;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.servlet.autoconfigure.HttpEncodingAutoConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.webmvc.autoconfigure.DispatcherServletAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.WebMvcObservationAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.web.filter.CharacterEncodingFilter;
import org.springframework.web.filter.RequestContextFilter;
import org.springframework.web.filter.ServerHttpObservationFilter;

/**
 * Spring MVC's filters serve Spring MVC's dispatcher only: the request context (locale and request
 * holders), the character encoding of form parameters (and none for a media range, {@link
 * MediaRangeContentType}), and the {@code http.server.requests} observation. The policy API and the
 * policy server are plain servlets that read bytes, use neither holder, and are measured by the {@code policy.*} metrics by callback and endpoint, where
 * {@code http.server.requests} could only have tagged them {@code uri="UNKNOWN"}. On their path the
 * filters were pure cost: 7 of the 47 µs of CPU a {@code user_may_invite} took (docs/performance.md).
 *
 * <p>Boot maps a filter bean that no registration names to every path, and registers the
 * observation filter itself, for every path. This auto-configuration runs after Boot's: it names
 * the first two in registrations of its own, when Boot made them, and narrows the third's.
 */
@AutoConfiguration(after = {HttpEncodingAutoConfiguration.class, WebMvcAutoConfiguration.class,
    WebMvcObservationAutoConfiguration.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
public class SpringMvcFilters {
    private static final List<String> DISPATCHER = List.of(DispatcherServletAutoConfiguration.DEFAULT_DISPATCHER_SERVLET_BEAN_NAME);

    @Bean
    @ConditionalOnBean(CharacterEncodingFilter.class)
    FilterRegistrationBean<CharacterEncodingFilter> characterEncodingFilterRegistration(CharacterEncodingFilter filter) {
        return dispatcherOnly(new FilterRegistrationBean<>(filter), "characterEncodingFilter");
    }

    /** A {@code Content-Type} that is a media range is read in no charset: {@link MediaRangeContentType}. */
    @Bean
    FilterRegistrationBean<MediaRangeContentType> mediaRangeContentTypeRegistration() {
        FilterRegistrationBean<MediaRangeContentType> registration = dispatcherOnly(new FilterRegistrationBean<>(new MediaRangeContentType()),
                "mediaRangeContentType");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    @Bean
    @ConditionalOnBean(RequestContextFilter.class)
    FilterRegistrationBean<RequestContextFilter> requestContextFilterRegistration(RequestContextFilter filter) {
        return dispatcherOnly(new FilterRegistrationBean<>(filter), "requestContextFilter");
    }

    @Bean
    static BeanPostProcessor observationFilterServesTheDispatcherOnly() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String beanName) {
                if (bean instanceof FilterRegistrationBean<?> registration
                        && registration.getFilter() instanceof ServerHttpObservationFilter) {
                    registration.setUrlPatterns(List.of());
                    registration.setServletNames(DISPATCHER);
                }
                return bean;
            }
        };
    }

    private static <F extends Filter> FilterRegistrationBean<F> dispatcherOnly(FilterRegistrationBean<F> registration, String name) {
        registration.setName(name);
        registration.setServletNames(DISPATCHER);
        if (registration.getFilter() instanceof Ordered ordered) {
            registration.setOrder(ordered.getOrder());
        }
        return registration;
    }
}
