package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.module.MeterChanges;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The registry Prometheus scrapes, which Spring Boot's own would otherwise be, read between meter changes ({@link MeterChanges}). */
@Configuration(proxyBeanMethods = false)
class MetricsConfiguration {

    /** Spring Boot's Prometheus auto-configuration takes this one in place of its own. */
    @Bean
    PrometheusRegistry prometheusRegistry(MeterChanges changes) {
        return new ConsistentScrapes(changes);
    }
}
