package dev.matrixpolicy.gateway.api;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * The management server runs in a child context whose web server factory sees only that context's
 * customizers: this brings {@link JsonErrorReports} there too, so the management port's errors are
 * JSON as well, and a {@link HeadsAwaitedLimit} of its own, a thirty-second of the heap. Listed in {@code META-INF/spring/...ManagementContextConfiguration.imports}, and
 * left out of component scanning ({@code PolicyGatewayApplication}).
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
@Import(JsonErrorReports.class)
class ManagementErrorReports {
    @Bean
    HeadsAwaitedLimit managementHeadsAwaited(MeterRegistry registry) {
        return new HeadsAwaitedLimit("management", 32, registry);
    }
}
