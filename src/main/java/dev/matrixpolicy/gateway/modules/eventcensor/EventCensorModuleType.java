package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.callbacks.PolicyModule;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * {@code event_censor}: {@code check_event_allowed} answered by a censor service that may deny an
 * event or replace its content, the example of Synapse's third-party rules docs.
 */
@Component
class EventCensorModuleType implements ModuleType<EventCensorConfig> {

    @Override
    public String name() {
        return "event_censor";
    }

    @Override
    public Class<EventCensorConfig> configType() {
        return EventCensorConfig.class;
    }

    @Override
    public PolicyModule create(EventCensorConfig config, ModuleContext context) {
        if (!Set.of("http", "https").contains(config.endpoint().getScheme()) || config.endpoint().getHost() == null) {
            throw new ModuleConfigurationException("endpoint", "expected an http or https URL, got '" + config.endpoint() + "'");
        }
        return new EventCensor(config, context);
    }
}
