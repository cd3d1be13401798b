package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/sources}: every module instance that reads lists on its own (a
 * {@code policy_list}'s rooms, files and URLs, a {@code user_denylist}'s {@code users-file}, a
 * {@code content_rules} media hash list, a {@code password_file}), in configuration order, with each
 * source's location, entries in force, last good read, last error and failures. An admin path, as it
 * names files and URLs.
 */
@Component
@Endpoint(id = "sources")
final class SourcesEndpoint {
    private final Generations generations;

    SourcesEndpoint(Generations generations) {
        this.generations = generations;
    }

    /** @return by instance name: {@code module} (its type) and {@code sources} */
    @ReadOperation
    public Map<String, Instance> sources() {
        Map<String, Instance> byInstance = new LinkedHashMap<>();
        for (ModuleInstance instance : generations.current().modules()) {
            List<ListSource.Status> sources = instance.module().listSources().stream().map(ListSource::status).toList();
            if (!sources.isEmpty()) {
                byInstance.put(instance.name(), new Instance(instance.type(), sources));
            }
        }
        return byInstance;
    }

    /** One instance's sources, in the order of its configuration. */
    record Instance(String module, List<ListSource.Status> sources) {
    }
}
