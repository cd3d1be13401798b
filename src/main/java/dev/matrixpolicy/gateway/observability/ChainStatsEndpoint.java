package dev.matrixpolicy.gateway.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/chainstats}: per callback and entry, since startup, the decisions the entry made
 * by outcome, and its calls by outcome with their mean and maximum latency: what the console shows
 * beside each chain, in one request instead of one {@code /actuator/metrics} request per meter and
 * tag. Read from the meters {@link MetricsChainObserver} records ({@value MetricsChainObserver#DECISIONS}
 * and {@value MetricsChainObserver#MODULE}); the maximum is over the registry's recent window.
 */
@Component
@Endpoint(id = "chainstats")
final class ChainStatsEndpoint {
    private final MeterRegistry registry;

    ChainStatsEndpoint(MeterRegistry registry) {
        this.registry = registry;
    }

    /** One outcome of an entry's calls. */
    record Calls(long count, double meanMicros, double maxMicros) {
    }

    /** One entry of a chain: decisions by outcome, calls by outcome. */
    record EntryStats(Map<String, Long> decisions, Map<String, Calls> calls) {
        EntryStats() {
            this(new TreeMap<>(), new TreeMap<>());
        }
    }

    /** category → callback → entry → its numbers; entries that were never asked are absent. */
    @ReadOperation
    public Map<String, Map<String, Map<String, EntryStats>>> stats() {
        Map<String, Map<String, Map<String, EntryStats>>> stats = new TreeMap<>();
        for (Counter counter : registry.find(MetricsChainObserver.DECISIONS).counters()) {
            entry(stats, counter.getId()).decisions().merge(counter.getId().getTag("outcome"), (long) counter.count(), Long::sum);
        }
        for (Timer timer : registry.find(MetricsChainObserver.MODULE).timers()) {
            entry(stats, timer.getId()).calls().put(timer.getId().getTag("outcome"),
                    new Calls(timer.count(), timer.mean(TimeUnit.MICROSECONDS), timer.max(TimeUnit.MICROSECONDS)));
        }
        return stats;
    }

    private static EntryStats entry(Map<String, Map<String, Map<String, EntryStats>>> stats, io.micrometer.core.instrument.Meter.Id id) {
        return stats.computeIfAbsent(id.getTag("category"), category -> new TreeMap<>())
                .computeIfAbsent(id.getTag("callback"), callback -> new TreeMap<>())
                .computeIfAbsent(id.getTag("module"), module -> new EntryStats());
    }
}
