package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The meters every module's {@linkplain PolicyModule#listSources() list sources} have alike, so that
 * one alert watches a {@code policy_list}'s rooms, a {@code user_denylist}'s {@code users-file}, a
 * {@code content_rules} media hash list and a {@code password_file} the same way: whether the last
 * read failed, how many reads failed, how long since a good read, and how many entries are in force.
 * The gateway binds them for each instance that has sources; a module declares nothing more.
 */
public final class ListSourceMeters implements MeterBinder {
    private final String instance;
    private final List<ListSource> sources;
    private final Clock clock;

    /** @param sources the instance's sources; none binds nothing */
    public ListSourceMeters(String instance, List<ListSource> sources) {
        this(instance, sources, Clock.systemUTC());
    }

    ListSourceMeters(String instance, List<ListSource> sources, Clock clock) {
        this.instance = instance;
        this.sources = List.copyOf(sources);
        this.clock = clock;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (ListSource source : sources) {
            ListSource.Status first = source.status();
            Tags tags = Tags.of("module", instance, "source", first.name(), "kind", first.kind());
            Gauge.builder("policy.module.source.failing", source, read -> read.status().lastError().isPresent() ? 1 : 0)
                    .description("1 while a list source's last read failed; its last good list still applies")
                    .tags(tags)
                    .register(registry);
            FunctionCounter.builder("policy.module.source.failures", source, read -> read.status().failures())
                    .description("Failed reads of a list source")
                    .tags(tags)
                    .register(registry);
            Gauge.builder("policy.module.source.staleness", source, this::staleness)
                    .description("Seconds since a list source last read successfully (NaN before its first good read)")
                    .tags(tags)
                    .baseUnit("seconds")
                    .register(registry);
            Gauge.builder("policy.module.source.entries", source, ListSourceMeters::entries)
                    .description("Entries of a list source in force, all kinds together")
                    .tags(tags)
                    .register(registry);
        }
    }

    private double staleness(ListSource source) {
        return staleness(source.status().lastSuccess(), clock);
    }

    /** Seconds since a source's last good read, NaN before its first: what every staleness gauge shows. */
    public static double staleness(Optional<Instant> lastSuccess, Clock clock) {
        return lastSuccess.map(at -> Duration.between(at, clock.instant()).toMillis() / 1000.0).orElse(Double.NaN);
    }

    private static double entries(ListSource source) {
        return source.status().entries().values().stream().mapToLong(Long::longValue).sum();
    }
}
