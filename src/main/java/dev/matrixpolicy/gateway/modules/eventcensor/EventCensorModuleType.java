package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import org.springframework.stereotype.Component;

/**
 * {@code event_censor}: {@code check_event_allowed} answered by a censor service that may deny an
 * event or replace its content, the example of Synapse's third-party rules docs.
 */
@Component
class EventCensorModuleType extends ModuleType<EventCensorConfig> {

    EventCensorModuleType() {
        super("event_censor", EventCensorConfig.class);
    }

    @Override
    public PolicyModule create(EventCensorConfig config, ModuleContext context) {
        BackendUrls.require("endpoint", config.endpoint());
        return new EventCensor(config, context);
    }
}
