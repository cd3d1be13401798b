package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state-reading meters of each module instance ({@link ModuleContext#bindMeters}): kept aside
 * while the instance is built, registered when it starts serving, removed when it stops, so that the
 * registry never holds two instances' meters under one name. And every series of an instance name
 * that no configuration serves any more, once its last request is done ({@link #removeSeriesOf}), so
 * that a scrape does not go on showing a module a reload removed.
 */
public final class InstanceMeters {
    private final MeterRegistry registry;
    private final MeterChanges changes;
    private final Map<PolicyModule, List<MeterBinder>> binders = new IdentityHashMap<>();
    private final Map<PolicyModule, List<Meter>> registered = new IdentityHashMap<>();
    /** The meters added by the binders running on this thread now. */
    private final ThreadLocal<List<Meter>> binding = new ThreadLocal<>();

    /** For a registry no scrape reads while it changes (tests, a registry other than Prometheus'). */
    public InstanceMeters(MeterRegistry registry) {
        this(registry, new MeterChanges());
    }

    /** @param changes what scrapes of {@code registry} read under, so that none sees an instance replaced halfway */
    public InstanceMeters(MeterRegistry registry, MeterChanges changes) {
        this.registry = registry;
        this.changes = changes;
        registry.config().onMeterAdded(meter -> {
            List<Meter> added = binding.get();
            if (added != null) {
                added.add(meter);
            }
        });
    }

    /** The binders collected while {@code module} was built, to run when it starts serving. */
    public synchronized void keep(PolicyModule module, List<MeterBinder> collected) {
        if (!collected.isEmpty()) {
            binders.put(module, List.copyOf(collected));
        }
    }

    /**
     * Removes the meters of the instances that stop serving and registers those of the instances that
     * start, as one change: a scrape sees the meters of the ones or of the others, never both or neither.
     */
    public void replace(Collection<PolicyModule> stopping, Collection<PolicyModule> starting) {
        changes.change(() -> {
            stopping.forEach(this::forget);
            starting.forEach(this::bind);
        });
    }

    /** Registers the meters of an instance that starts serving. */
    public synchronized void bind(PolicyModule module) {
        List<Meter> added = new ArrayList<>();
        binding.set(added);
        try {
            binders.getOrDefault(module, List.of()).forEach(binder -> binder.bindTo(registry));
        } finally {
            binding.remove();
        }
        registered.put(module, added);
    }

    /**
     * Removes every series of the gateway's ({@code policy.*}) tagged with one of these module instance
     * names: the chain's counts and timings of them, and the meters of their own. Called for names no
     * configuration generation serves or finishes with, so nothing counts under them any more; a
     * name configured again later starts its series afresh, as a counter does after a restart.
     */
    public void removeSeriesOf(Collection<String> names) {
        if (names.isEmpty()) {
            return;
        }
        List<Meter> gone = registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith(SERIES_PREFIX))
                .filter(meter -> names.contains(meter.getId().getTag(MODULE_TAG)))
                .toList();
        gone.forEach(registry::remove);
    }

    private static final String SERIES_PREFIX = "policy.";
    private static final String MODULE_TAG = "module";

    /** Removes the meters of an instance that stops serving, and forgets its binders. */
    public synchronized void forget(PolicyModule module) {
        binders.remove(module);
        List<Meter> meters = registered.remove(module);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }
}
