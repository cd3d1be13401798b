package dev.matrixpolicy.gateway.modules.presencerouter;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.modules.presencerouter.PresenceRouterConfig.Route;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * {@code presence_router}: the presence router of the Synapse docs' example, with its routes taken
 * from configuration. Implements {@code get_users_for_states} and {@code get_interested_users}.
 */
@Component
class PresenceRouterModuleType extends ModuleType<PresenceRouterConfig> {

    PresenceRouterModuleType() {
        super("presence_router", PresenceRouterConfig.class);
    }

    @Override
    public PolicyModule create(PresenceRouterConfig config, ModuleContext context) {
        Map<String, Set<String>> sourcesByReceiver = new LinkedHashMap<>();
        Set<String> receiversOfAll = new LinkedHashSet<>();
        for (int r = 0; r < config.routes().size(); r++) {
            Route route = config.routes().get(r);
            String field = "routes[" + r + "]";
            List<String> receivers = receivers(field + ".receivers", route.receivers());
            if (isAll(field + ".sources", route.sources())) {
                receiversOfAll.addAll(receivers);
            } else {
                List<String> sources = sources(field + ".sources", route.sources());
                receivers.forEach(receiver -> sourcesByReceiver.computeIfAbsent(receiver, k -> new LinkedHashSet<>()).addAll(sources));
            }
        }
        return new PresenceRouter(sourcesByReceiver, receiversOfAll);
    }

    private static List<String> receivers(String field, List<String> receivers) {
        for (int i = 0; i < receivers.size(); i++) {
            if (PresenceRouterConfig.ALL.equals(receivers.get(i))) {
                throw new ModuleConfigurationException(field + "[" + i + "]",
                        "receivers must be user IDs: ALL is only meaningful in sources (\"receive everyone's presence\")");
            }
            userId(field + "[" + i + "]", receivers.get(i), "");
        }
        return receivers;
    }

    private static List<String> sources(String field, List<String> sources) {
        for (int i = 0; i < sources.size(); i++) {
            userId(field + "[" + i + "]", sources.get(i), ", or ALL (alone) for every user");
        }
        return sources;
    }

    /** Whether the sources are ALL; ALL next to user IDs is refused, as it would make them meaningless. */
    private static boolean isAll(String field, List<String> sources) {
        int all = sources.indexOf(PresenceRouterConfig.ALL);
        if (all >= 0 && sources.size() > 1) {
            throw new ModuleConfigurationException(field + "[" + all + "]",
                    "ALL already means every user: list it alone, as 'sources: ALL'");
        }
        return all >= 0;
    }

    private static void userId(String field, String value, String alternative) {
        try {
            MatrixIds.userId(value);
        } catch (IllegalArgumentException invalid) {
            throw new ModuleConfigurationException(field, "'" + value + "' is " + invalid.getMessage() + alternative);
        }
    }
}
