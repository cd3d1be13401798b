package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
    private static final String ENTITY = "user ID, room ID or alias, or server name";
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

    /**
     * @param entity the query parameter as the actuator passes it: a string, or a list of its values when
     *               it is repeated (typed {@code Object} because a {@code String} would get them joined by
     *               commas, which can make a valid user ID of two)
     */
    @ReadOperation
    public WebEndpointResponse<Object> match(@Selector String operation, @Nullable Object entity) {
        if (!operation.equals("match")) {
            return EndpointErrors.error("M_UNRECOGNIZED", "Unknown operation '" + operation + "': use /actuator/policylists/match?entity=...", 404);
        }
        Optional<WebEndpointResponse<Object>> repeated = EndpointErrors.repeated("entity", entity);
        if (repeated.isPresent()) {
            return repeated.get();
        }
        if (!(entity instanceof String asked) || asked.isBlank()) {
            return EndpointErrors.error("M_MISSING_PARAM", "Missing the query parameter 'entity': " + ENTITY, 400);
        }
        String id = asked.strip();
        try {
            checked(id);
        } catch (IllegalArgumentException invalid) {
            return new EndpointErrors.InvalidParameter("entity", "expected one " + ENTITY + "; " + invalid.getMessage()).response();
        }
        Map<String, Object> byInstance = new LinkedHashMap<>();
        views().forEach((name, view) -> byInstance.put(name, view.explain(id)));
        return new WebEndpointResponse<>(byInstance, 200);
    }

    /** What the entity is taken for by its first character, as the explanation reads it; checked against that grammar. */
    private static void checked(String id) {
        switch (id.charAt(0)) {
            case '@' -> MatrixIds.userIdAsSynapseTakesIt(id);
            case '!' -> MatrixIds.roomIdAsSynapseTakesIt(id);
            case '#' -> MatrixIds.roomAliasAsSynapseTakesIt(id);
            default -> MatrixIds.serverName(id);
        }
    }

    /** The serving generation's policy lists, by instance name, in configuration order. */
    private Map<String, PolicyListView> views() {
        Map<String, PolicyListView> views = new LinkedHashMap<>();
        generations.current().modules().stream()
                .filter(instance -> instance.module() instanceof PolicyListView)
                .forEach(instance -> views.put(instance.name(), (PolicyListView) instance.module()));
        return views;
    }
}
