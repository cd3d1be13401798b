package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What a module instance may know about its surroundings.
 *
 * <p>Meters that read the instance's own state (a gauge of its queue, a function counter, a cache's
 * or circuit breaker's binder) go through {@link #bindMeters}, never straight to the registry: a
 * configuration reload may build a replacement with the same name, and Micrometer would hand that
 * replacement the old instance's meters, reading the old state. Bound this way, they are registered
 * when the instance starts serving and removed when it stops. Counters and timers the instance only
 * increments may be registered on {@link #meterRegistry()} directly.
 *
 * @param instanceName  the instance's unique name, for its logs and metric tags
 * @param serverName    the homeserver this gateway serves ({@code policy-gateway.server-name})
 * @param meterRegistry where a module records metrics about its own work
 * @param meterBinders  takes the instance's state-reading meters, see {@link #bindMeters}
 */
public record ModuleContext(String instanceName, String serverName, MeterRegistry meterRegistry,
                            Consumer<MeterBinder> meterBinders) {
    public ModuleContext {
        Objects.requireNonNull(instanceName, "instanceName");
        Objects.requireNonNull(meterRegistry, "meterRegistry");
        Objects.requireNonNull(meterBinders, "meterBinders");
    }

    /** A context whose meters are bound at once: for an instance used on its own, outside any chain. */
    public ModuleContext(String instanceName, String serverName, MeterRegistry meterRegistry) {
        this(instanceName, serverName, meterRegistry, binder -> binder.bindTo(meterRegistry));
    }

    /** Registers meters that read this instance's state for as long as it serves. */
    public void bindMeters(MeterBinder binder) {
        meterBinders.accept(binder);
    }
}
