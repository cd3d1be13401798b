package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.MeterChanges;
import dev.matrixpolicy.gateway.replies.HeapBudget;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.lang.management.ManagementFactory;
import jdk.management.VirtualThreadSchedulerMXBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The registry Prometheus scrapes, which Spring Boot's own would otherwise be, read between meter
 * changes ({@link MeterChanges}), the virtual thread scheduler's gauges beside Boot's JVM metrics, and
 * the heap the module backends' replies hold.
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

    /**
     * What the replies of module backends being read hold of their share of the heap
     * ({@link Backend#REPLY_MEMORY}), and the share: how near the calls are to failing for want of it.
     */
    @Bean
    MeterBinder backendReplyMemory() {
        return registry -> {
            Gauge.builder("policy.module.backend.reply.memory", Backend.REPLY_MEMORY, HeapBudget::held).baseUnit("bytes")
                    .description("What the replies of module backends being read hold of the heap, bodies and trees").register(registry);
            Gauge.builder("policy.module.backend.reply.memory.max", Backend.REPLY_MEMORY, HeapBudget::bytes).baseUnit("bytes")
                    .description("The share of the heap they may hold at once; past it a call fails as its module's failure policy says")
                    .register(registry);
        };
    }
}
