package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.module.MeterChanges;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.lang.management.ManagementFactory;
import jdk.management.VirtualThreadSchedulerMXBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The registry Prometheus scrapes, which Spring Boot's own would otherwise be, read between meter
 * changes ({@link MeterChanges}), and the virtual thread scheduler's gauges beside Boot's JVM metrics.
 */
@Configuration(proxyBeanMethods = false)
class MetricsConfiguration {

    /** Spring Boot's Prometheus auto-configuration takes this one in place of its own. */
    @Bean
    PrometheusRegistry prometheusRegistry(MeterChanges changes) {
        return new ConsistentScrapes(changes);
    }

    @Bean
    VirtualThreadSchedulerMetrics virtualThreadSchedulerMetrics() {
        return new VirtualThreadSchedulerMetrics(ManagementFactory.getPlatformMXBean(VirtualThreadSchedulerMXBean.class));
    }
}
