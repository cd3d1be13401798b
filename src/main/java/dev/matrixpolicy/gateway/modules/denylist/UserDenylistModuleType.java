package dev.matrixpolicy.gateway.modules.denylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Gauge;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * {@code user_denylist}: the Synapse docs' spam-checker example ({@code evil_users}), generalised to
 * globs and to the four callbacks where a user acts. The list is compiled once at startup.
 */
@Component
class UserDenylistModuleType extends ModuleType<UserDenylistConfig> {

    UserDenylistModuleType() {
        super(Denylist.MODULE_TYPE, UserDenylistConfig.class);
    }

    @Override
    public PolicyModule create(UserDenylistConfig config, ModuleContext context) {
        UserIdMatcher listed = ConfigValues.users("users", config.users());
        Rejection rejection = ConfigValues.rejection(config.errcode(), config.error());
        registerMeters(listed, context);
        return new UserDenylist(listed, ConfigValues.callbacks("callbacks", config.callbacks(), UserDenylist.SUPPORTED),
                rejection);
    }

    private static void registerMeters(UserIdMatcher listed, ModuleContext context) {
        context.bindMeters(registry -> {
            Gauge.builder("policy.module.denylist.entries", listed::exactCount)
                    .description("Entries of a user_denylist instance, by kind")
                    .tags("module", context.instanceName(), "kind", "exact")
                    .register(registry);
            Gauge.builder("policy.module.denylist.entries", listed::globCount)
                    .description("Entries of a user_denylist instance, by kind")
                    .tags("module", context.instanceName(), "kind", "glob")
                    .register(registry);
        });
    }
}
