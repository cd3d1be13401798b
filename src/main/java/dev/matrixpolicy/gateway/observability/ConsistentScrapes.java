package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.module.MeterChanges;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.function.Predicate;

/**
 * Prometheus' registry, read between two {@link MeterChanges}, never during one: a scrape while a
 * reload replaces a module instance would otherwise fail with a 500, or miss the instance's series.
 */
final class ConsistentScrapes extends PrometheusRegistry {
    private final MeterChanges changes;

    ConsistentScrapes(MeterChanges changes) {
        this.changes = changes;
    }

    @Override
    public MetricSnapshots scrape() {
        return changes.read(() -> super.scrape());
    }

    @Override
    public MetricSnapshots scrape(PrometheusScrapeRequest request) {
        return changes.read(() -> super.scrape(request));
    }

    @Override
    public MetricSnapshots scrape(Predicate<String> includedNames) {
        return changes.read(() -> super.scrape(includedNames));
    }

    @Override
    public MetricSnapshots scrape(Predicate<String> includedNames, PrometheusScrapeRequest request) {
        return changes.read(() -> super.scrape(includedNames, request));
    }
}
