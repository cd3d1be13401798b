package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ListSourceMetersTest {
    private static final Instant NOW = Instant.parse("2026-12-05T08:00:00Z");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicReference<ListSource.Status> status = new AtomicReference<>(
            new ListSource.Status("users-file", "file", "/etc/users.txt", Map.of(), Optional.empty(), Optional.empty(), 0));

    @Test
    void aSourceThatHasNotReadYetIsNotFailingAndHasNoStaleness() {
        bind();

        assertThat(value("policy.module.source.failing")).isZero();
        assertThat(value("policy.module.source.failures")).isZero();
        assertThat(value("policy.module.source.staleness")).isNaN();
        assertThat(value("policy.module.source.entries")).isZero();
    }

    @Test
    void aFailingSourceReadsOneWithItsFailuresAndTheAgeOfItsLastGoodRead() {
        bind();
        status.set(new ListSource.Status("users-file", "file", "/etc/users.txt", Map.of("exact", 3L, "glob", 2L),
                Optional.of(NOW.minusSeconds(90)), Optional.of("/etc/users.txt does not exist"), 4));

        assertThat(value("policy.module.source.failing")).isOne();
        assertThat(value("policy.module.source.failures")).isEqualTo(4);
        assertThat(value("policy.module.source.staleness")).isEqualTo(90);
        assertThat(value("policy.module.source.entries")).as("every kind together").isEqualTo(5);
    }

    @Test
    void aSourceThatReadsAgainIsNoLongerFailingAndKeepsItsCount() {
        bind();
        status.set(new ListSource.Status("users-file", "file", "/etc/users.txt", Map.of("exact", 1L),
                Optional.of(NOW), Optional.empty(), 4));

        assertThat(value("policy.module.source.failing")).isZero();
        assertThat(value("policy.module.source.failures")).isEqualTo(4);
        assertThat(value("policy.module.source.staleness")).isZero();
    }

    @Test
    void eachSourceIsTaggedWithItsInstanceNameAndKind() {
        bind();

        Meter.Id id = registry.get("policy.module.source.failing").meter().getId();
        assertThat(id.getTag("module")).isEqualTo("known-spammers");
        assertThat(id.getTag("source")).isEqualTo("users-file");
        assertThat(id.getTag("kind")).isEqualTo("file");
        assertThat(registry.get("policy.module.source.staleness").gauge().getId().getBaseUnit()).isEqualTo("seconds");
    }

    @Test
    void anInstanceWithoutSourcesBindsNothing() {
        new ListSourceMeters("static-0", List.of()).bindTo(registry);

        assertThat(registry.getMeters()).isEmpty();
    }

    private void bind() {
        new ListSourceMeters("known-spammers", List.of(status::get), Clock.fixed(NOW, ZoneOffset.UTC)).bindTo(registry);
    }

    private double value(String name) {
        return registry.get(name).tag("module", "known-spammers").tag("source", "users-file").meter()
                .measure().iterator().next().getValue();
    }
}
