package dev.matrixpolicy.gateway.modules.presencerouter;

import dev.matrixpolicy.gateway.callbacks.presence_router.GetUsersForStates;
import dev.matrixpolicy.gateway.module.ModuleContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;

/** {@code presence_router} instances for benchmarks in other packages, as configuration makes them. */
public final class PresenceRouters {
    private PresenceRouters() {
    }

    /** One instance with one route: {@code receivers} receive everyone's presence ({@code sources: ALL}). */
    public static GetUsersForStates toAll(List<String> receivers) {
        return (PresenceRouter) new PresenceRouterModuleType().create(
                new PresenceRouterConfig(List.of(new PresenceRouterConfig.Route(receivers, List.of(PresenceRouterConfig.ALL)))),
                new ModuleContext("bench", "example.com", new SimpleMeterRegistry()));
    }
}
