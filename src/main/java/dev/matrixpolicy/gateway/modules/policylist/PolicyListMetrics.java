package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.module.ListSourceMeters;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyEvents;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.Consumer;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The metrics of one {@code policy_list} instance: rules by source and kind, rule events skipped,
 * matches by source, kind and callback, how long an update takes to apply, and each source's
 * failures and staleness.
 */
final class PolicyListMetrics {
    private final String instance;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Map<PolicyEvents.Skipped, Integer>> skipped = new ConcurrentHashMap<>();
    private final Map<String, Timer> updates = new ConcurrentHashMap<>();
    private final Map<MatchKey, Counter> matches = new ConcurrentHashMap<>();

    private final Consumer<MeterBinder> binders;

    PolicyListMetrics(String instance, MeterRegistry registry, Consumer<MeterBinder> binders, Clock clock) {
        this.instance = instance;
        this.registry = registry;
        this.binders = binders;
        this.clock = clock;
    }

    /** The meters that read the instance's current state, bound while it serves. */
    void watch(PolicyList list) {
        binders.accept(meters -> bindTo(meters, list));
    }

    private void bindTo(MeterRegistry meters, PolicyList list) {
        List<PolicyList.Slot> slots = list.slots();
        for (int position = 0; position < slots.size(); position++) {
            PolicyList.Slot slot = slots.get(position);
            for (EntityKind kind : EntityKind.values()) {
                Gauge.builder("policy.module.policy_list.rules", list, l -> rules(l, slot.name(), kind))
                        .description("Rules in force, by source and entity kind")
                        .tags("module", instance, "source", slot.name(), "kind", kind.wireName())
                        .register(meters);
            }
            if (slot.source().isEmpty()) {
                continue; // the allow list: it never reads
            }
            int at = position;
            FunctionCounter.builder("policy.module.policy_list.source.failures", list, l -> l.status(at).failures())
                    .description("Failed reads of a policy list source")
                    .tags("module", instance, "source", slot.name())
                    .register(meters);
            Gauge.builder("policy.module.policy_list.source.staleness", list, l -> staleness(l.status(at)))
                    .description("Seconds since a policy list source last read successfully (NaN before its first read)")
                    .tags("module", instance, "source", slot.name())
                    .baseUnit("seconds")
                    .register(meters);
            if (slot.kind().equals("room")) {
                PolicySource room = slot.source().get();
                Gauge.builder("policy.module.policy_list.source.upgraded", room, read -> read.upgrade().isPresent() ? 1 : 0)
                        .description("1 when the policy room a source reads announces an upgrade (a tombstone), which the source reports and does not follow")
                        .tags("module", instance, "source", slot.name())
                        .register(meters);
            }
            for (PolicyEvents.Skipped reason : PolicyEvents.Skipped.values()) {
                Gauge.builder("policy.module.policy_list.skipped", skipped,
                                map -> map.getOrDefault(slot.name(), Map.of()).getOrDefault(reason, 0))
                        .description("Rule events a source holds that no rule comes from, by reason")
                        .tags("module", instance, "source", slot.name(), "reason", reason.wireName())
                        .register(meters);
            }
        }
    }

    /**
     * Removes the series of the sources a reload took out of this instance (those not in
     * {@code kept}, the sources of the instance that replaced it): their update timings and matches.
     * The kept ones are the successor's too, which counts on under the same series. When the whole
     * instance goes, the registry loses its series by name ({@code InstanceMeters#retire}).
     */
    void retire(Set<String> kept) {
        updates.entrySet().removeIf(entry -> remove(!kept.contains(entry.getKey()), entry.getValue()));
        matches.entrySet().removeIf(entry -> remove(!kept.contains(entry.getKey().source()), entry.getValue()));
    }

    private boolean remove(boolean gone, Meter meter) {
        if (gone) {
            registry.remove(meter);
        }
        return gone;
    }

    void skipped(String source, Map<PolicyEvents.Skipped, Integer> counts) {
        Map<PolicyEvents.Skipped, Integer> copy = new EnumMap<>(PolicyEvents.Skipped.class);
        copy.putAll(counts);
        skipped.put(source, copy);
    }

    void updated(String source, long nanos) {
        updates.computeIfAbsent(source, name -> Timer.builder("policy.module.policy_list.update")
                        .description("From a source's new rules to their use by requests")
                        .tags("module", instance, "source", name)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts a refusal; on the request path, so each counter is built once and then looked up. */
    void matched(PolicyRule rule, CallbackType<?, ?, ?> callback) {
        matches.computeIfAbsent(new MatchKey(rule.origin().source(), rule.kind(), callback.name()),
                        key -> Counter.builder("policy.module.policy_list.matches")
                                .description("Refusals, by the deciding rule's source and kind, and callback")
                                .tags("module", instance, "source", key.source(), "kind", key.kind().wireName(),
                                        "callback", key.callback())
                                .register(registry))
                .increment();
    }

    /** A matches counter's tags: sources times kinds times callbacks, a few hundred at most. */
    private record MatchKey(String source, EntityKind kind, String callback) {
    }

    private static double rules(PolicyList list, String source, EntityKind kind) {
        return list.index().counts().getOrDefault(source, Map.of()).getOrDefault(kind, Map.of())
                .values().stream().mapToInt(Integer::intValue).sum();
    }

    private double staleness(PolicySource.Status status) {
        return ListSourceMeters.staleness(status.lastSuccess(), clock);
    }
}
