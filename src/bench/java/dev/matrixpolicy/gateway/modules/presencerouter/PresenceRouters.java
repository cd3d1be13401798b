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
        return route(receivers, List.of(PresenceRouterConfig.ALL));
    }

    /** One instance with one route: {@code receivers} receive the presence of {@code sources}. */
    public static GetUsersForStates route(List<String> receivers, List<String> sources) {
        return (PresenceRouter) new PresenceRouterModuleType().create(
                new PresenceRouterConfig(List.of(new PresenceRouterConfig.Route(receivers, sources))),
                new ModuleContext("bench", "example.com", new SimpleMeterRegistry()));
    }
}
