package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state-reading meters of each module instance ({@link ModuleContext#bindMeters}): kept aside
 * while the instance is built, registered when it starts serving, removed when it stops, so that the
 * registry never holds two instances' meters under one name. And, once an instance's last request is
 * done, the series of it that nothing serving uses any more ({@link #retire}), so that a scrape does
 * not go on showing a module, a rule or a callback a reload removed.
 */
public final class InstanceMeters {
    private final MeterRegistry registry;
    private final MeterChanges changes;
    private final Map<PolicyModule, List<MeterBinder>> binders = new IdentityHashMap<>();
    private final Map<PolicyModule, List<Meter>> registered = new IdentityHashMap<>();
    /** The registry of each instance built and not retired yet, serving or not. Guarded by this. */
    private final Set<InstanceRegistry> open = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<PolicyModule, InstanceRegistry> registries = new IdentityHashMap<>();
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

    /**
     * The registry for an instance about to be built, as its {@link ModuleContext#meterRegistry()}, on the
     * thread that builds it: what the instance registers while built is its own, and stays in the scrape
     * while the instance does, even when another instance of its name retires meanwhile.
     */
    public synchronized MeterRegistry open(String instanceName) {
        InstanceRegistry instanceRegistry = new InstanceRegistry(instanceName, registry, this);
        open.add(instanceRegistry);
        return instanceRegistry;
    }

    /**
     * The binders collected while {@code module} was built, to run when it starts serving, and the
     * registry {@link #open} gave it (any other registry: none).
     */
    public synchronized void keep(PolicyModule module, List<MeterBinder> collected, MeterRegistry builtOn) {
        if (!collected.isEmpty()) {
            binders.put(module, List.copyOf(collected));
        }
        if (builtOn instanceof InstanceRegistry instanceRegistry) {
            instanceRegistry.built();
            registries.put(module, instanceRegistry);
        }
    }

    /** The binders collected while {@code module} was built, to run when it starts serving. */
    public void keep(PolicyModule module, List<MeterBinder> collected) {
        keep(module, collected, registry);
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
     * After the last request of these instances (or after they were built for nothing), removes the
     * gateway's series ({@code policy.*}) tagged with their names that nothing serving uses any more:
     * every series of a name no instance has now, and of a name another instance has, the series these
     * registered while built that no instance open registered ({@code policy.module.content_rules.matches}
     * of a rule a reload removed), and the chain's series of a callback {@code serving} no longer links
     * the name to. A series any instance open registered while built stays, with its count: a kept rule
     * counts on. A name configured again later starts its series afresh, as a counter does after a restart.
     *
     * @param serving what the generations still serving or finishing serve: each instance name, with the
     *                callbacks its chains link it to
     */
    public void retire(Collection<ModuleInstance> instances, Map<String, Set<String>> serving) {
        List<InstanceRegistry> retired = new ArrayList<>();
        synchronized (this) {
            instances.forEach(instance -> {
                InstanceRegistry gone = registries.remove(instance.module());
                if (gone != null) {
                    retired.add(gone);
                }
            });
        }
        retire(retired, instances.stream().map(ModuleInstance::name).toList(), serving);
    }

    /** {@link #retire} for an instance whose building failed, with the registry {@link #open} gave it. */
    public void abandon(MeterRegistry builtOn, String instanceName, Map<String, Set<String>> serving) {
        retire(builtOn instanceof InstanceRegistry instanceRegistry ? List.of(instanceRegistry) : List.of(),
                List.of(instanceName), serving);
    }

    private synchronized void retire(List<InstanceRegistry> retired, Collection<String> alsoNamed, Map<String, Set<String>> serving) {
        open.removeAll(retired);
        Set<String> names = new HashSet<>(alsoNamed);
        Set<Meter> leftBehind = Collections.newSetFromMap(new IdentityHashMap<>());
        retired.forEach(gone -> {
            names.add(gone.instanceName());
            leftBehind.addAll(gone.builtWith());
        });
        if (names.isEmpty()) {
            return;
        }
        Set<String> named = new HashSet<>(serving.keySet());
        Set<Meter> used = Collections.newSetFromMap(new IdentityHashMap<>());
        open.forEach(instance -> {
            named.add(instance.instanceName());
            used.addAll(instance.builtWith());
        });
        registered.values().forEach(used::addAll);
        List<Meter> gone = registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith(SERIES_PREFIX))
                .filter(meter -> names.contains(meter.getId().getTag(MODULE_TAG)) && !used.contains(meter))
                .filter(meter -> {
                    String name = meter.getId().getTag(MODULE_TAG);
                    String callback = meter.getId().getTag(CALLBACK_TAG);
                    if (!named.contains(name)) {
                        return true;
                    }
                    return callback != null ? !serving.getOrDefault(name, Set.of()).contains(callback) : leftBehind.contains(meter);
                })
                .toList();
        gone.forEach(registry::remove);
    }

    private static final String SERIES_PREFIX = "policy.";
    private static final String MODULE_TAG = "module";
    private static final String CALLBACK_TAG = "callback";

    /** Removes the meters of an instance that stops serving, and forgets its binders. */
    public synchronized void forget(PolicyModule module) {
        binders.remove(module);
        List<Meter> meters = registered.remove(module);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }
}
