package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/policylists}: each {@code policy_list} instance's sources, with rule counts by
 * kind and recommendation, last good read and last error; and
 * {@code /actuator/policylists/match?entity=...}: the rules that name an entity, which one decides
 * it, and whether an allow overrides a ban.
 */
@Component
@Endpoint(id = "policylists")
final class PolicyListsEndpoint {
    private final Generations generations;

    PolicyListsEndpoint(Generations generations) {
        this.generations = generations;
    }

    @ReadOperation
    public Map<String, Object> lists() {
        Map<String, Object> byInstance = new LinkedHashMap<>();
        views().forEach((name, view) -> byInstance.put(name, Map.of("sources", view.sources())));
        return byInstance;
    }

    @ReadOperation
    public WebEndpointResponse<Object> match(@Selector String operation, @Nullable String entity) {
        if (!operation.equals("match")) {
            return new WebEndpointResponse<>(Map.of("errcode", "M_UNRECOGNIZED",
                    "error", "Unknown operation '" + operation + "': use /actuator/policylists/match?entity=..."), 404);
        }
        if (entity == null || entity.isBlank()) {
            return new WebEndpointResponse<>(Map.of("errcode", "M_MISSING_PARAM",
                    "error", "Missing the query parameter 'entity': a user ID, room ID or alias, or server name"), 400);
        }
        Map<String, Object> byInstance = new LinkedHashMap<>();
        views().forEach((name, view) -> byInstance.put(name, view.explain(entity.strip())));
        return new WebEndpointResponse<>(byInstance, 200);
    }

    private Map<String, PolicyListView> views() {
        Map<String, PolicyListView> views = new LinkedHashMap<>();
        generations.current().modules().stream()
                .filter(instance -> instance.module() instanceof PolicyListView)
                .forEach(instance -> views.put(instance.name(), (PolicyListView) instance.module()));
        return views;
    }
}
