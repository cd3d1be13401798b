package dev.matrixpolicy.gateway.modules.denylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
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
        for (int i = 0; i < config.users().size(); i++) {
            int index = i;
            UserIdMatcher.problemWith(config.users().get(i)).ifPresent(problem -> {
                throw new ModuleConfigurationException("users[" + index + "]", problem);
            });
        }
        if (!Rejection.isErrcode(config.errcode())) {
            throw new ModuleConfigurationException("errcode", "expected a Matrix error code such as M_FORBIDDEN, got '"
                    + config.errcode() + "'");
        }
        Rejection rejection = new Rejection(config.errcode(),
                Optional.ofNullable(config.error()).filter(message -> !message.isBlank()));
        UserIdMatcher listed = UserIdMatcher.compile(config.users());
        registerMeters(listed, context);
        return new UserDenylist(listed, callbacks(config.callbacks()), rejection);
    }

    private static Set<CallbackType<?, ?, ?>> callbacks(List<String> names) {
        Set<CallbackType<?, ?, ?>> enabled = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            Optional<CallbackType<?, ?, ?>> supported = UserDenylist.SUPPORTED.stream()
                    .filter(type -> type.name().equals(name)).findFirst();
            if (supported.isEmpty()) {
                throw new ModuleConfigurationException("callbacks[" + i + "]", "'" + name + "' is not one of "
                        + UserDenylist.SUPPORTED.stream().map(CallbackType::name).toList());
            }
            enabled.add(supported.get());
        }
        return enabled;
    }

    private static void registerMeters(UserIdMatcher listed, ModuleContext context) {
        Gauge.builder("policy.module.denylist.entries", listed::exactCount)
                .description("Entries of a user_denylist instance, by kind")
                .tags("module", context.instanceName(), "kind", "exact")
                .register(context.meterRegistry());
        Gauge.builder("policy.module.denylist.entries", listed::globCount)
                .description("Entries of a user_denylist instance, by kind")
                .tags("module", context.instanceName(), "kind", "glob")
                .register(context.meterRegistry());
    }
}
