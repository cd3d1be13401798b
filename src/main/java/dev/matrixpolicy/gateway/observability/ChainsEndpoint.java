package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/chains}: every callback, by category, with its ordered module instances.
 * Auth checkers are listed per login type.
 */
@Component
@Endpoint(id = "chains")
final class ChainsEndpoint {
    private final Generations generations;

    ChainsEndpoint(Generations generations) {
        this.generations = generations;
    }

    @ReadOperation
    public Map<String, Map<String, Object>> chains() {
        Map<String, Map<String, Object>> byCategory = new LinkedHashMap<>();
        for (CallbackEndpoint<?, ?> endpoint : generations.current().chains().endpoints()) {
            Map<String, List<String>> perKey = endpoint.chains();
            Object modules = perKey.size() == 1 && perKey.containsKey("") ? perKey.get("") : perKey;
            byCategory.computeIfAbsent(endpoint.category().wireName(), category -> new LinkedHashMap<>())
                    .put(endpoint.name(), modules);
        }
        return byCategory;
    }
}
