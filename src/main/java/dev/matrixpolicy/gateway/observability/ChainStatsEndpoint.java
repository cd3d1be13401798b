package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.config.Generation;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/chainstats}: per callback and entry of the serving chains, the entry's mode
 * ({@code enforce} or {@code shadow}), and since startup the decisions it made by outcome (a shadow
 * entry's: the ones it would have made) and its calls by outcome with their mean and maximum latency:
 * what the console shows beside each chain, in one request instead of one {@code /actuator/metrics}
 * request per meter and tag. The numbers are read from the meters {@link MetricsChainObserver}
 * records ({@value MetricsChainObserver#DECISIONS}, {@value MetricsChainObserver#SHADOW_ANSWERS} and
 * {@value MetricsChainObserver#MODULE}); the maximum is over the registry's recent window.
 */
@Component
@Endpoint(id = "chainstats")
final class ChainStatsEndpoint {
    private final MeterRegistry registry;
    private final Generations generations;

    ChainStatsEndpoint(MeterRegistry registry, Generations generations) {
        this.registry = registry;
        this.generations = generations;
    }

    /** One outcome of an entry's calls. */
    record Calls(long count, double meanMicros, double maxMicros) {
    }

    /**
     * One entry of a chain: its mode, decisions by outcome, what it answered in shadow mode by outcome
     * (the decision it would have made, or {@code failed}, {@code timed_out}), calls by outcome.
     */
    record EntryStats(String mode, Map<String, Long> decisions, Map<String, Long> shadowAnswers, Map<String, Calls> calls) {
        EntryStats(String mode) {
            this(mode, new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
        }
    }

    /**
     * category → callback → entry → its mode and numbers, entries in chain order; callbacks without
     * entries are absent, and so are entries a reload removed.
     */
    @ReadOperation
    public Map<String, Map<String, Map<String, EntryStats>>> stats() {
        Generation serving = generations.current();
        Map<String, Map<String, Map<String, EntryStats>>> stats = new TreeMap<>();
        for (CallbackEndpoint<?, ?> endpoint : serving.chains().endpoints()) {
            Map<String, EntryStats> entries = new LinkedHashMap<>();
            endpoint.chains().values().stream().flatMap(List::stream)
                    .forEach(entry -> entries.computeIfAbsent(entry, name -> new EntryStats(mode(serving, name))));
            if (!entries.isEmpty()) {
                stats.computeIfAbsent(endpoint.category().wireName(), category -> new TreeMap<>()).put(endpoint.name(), entries);
            }
        }
        count(stats, MetricsChainObserver.DECISIONS, EntryStats::decisions);
        count(stats, MetricsChainObserver.SHADOW_ANSWERS, EntryStats::shadowAnswers);
        for (Timer timer : registry.find(MetricsChainObserver.MODULE).timers()) {
            entry(stats, timer.getId()).ifPresent(entry -> entry.calls().put(timer.getId().getTag("outcome"),
                    new Calls(timer.count(), timer.mean(TimeUnit.MICROSECONDS), timer.max(TimeUnit.MICROSECONDS))));
        }
        return stats;
    }

    /** Adds each counter of a meter to its entry's map, by outcome. */
    private void count(Map<String, Map<String, Map<String, EntryStats>>> stats, String meter,
                       Function<EntryStats, Map<String, Long>> byOutcome) {
        for (Counter counter : registry.find(meter).counters()) {
            entry(stats, counter.getId()).ifPresent(entry ->
                    byOutcome.apply(entry).merge(counter.getId().getTag("outcome"), (long) counter.count(), Long::sum));
        }
    }

    private static String mode(Generation serving, String entry) {
        return serving.instance(entry).map(instance -> instance.mode().wireName()).orElse(Link.Mode.ENFORCE.wireName());
    }

    /** The serving entry a meter is about, if it still serves that callback. */
    private static Optional<EntryStats> entry(Map<String, Map<String, Map<String, EntryStats>>> stats, Meter.Id id) {
        return Optional.ofNullable(stats.getOrDefault(id.getTag("category"), Map.of())
                .getOrDefault(id.getTag("callback"), Map.of()).get(id.getTag("module")));
    }
}
