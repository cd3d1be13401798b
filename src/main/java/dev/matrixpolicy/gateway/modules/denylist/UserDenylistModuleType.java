package dev.matrixpolicy.gateway.modules.denylist;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.UserListFile;
import io.micrometer.core.instrument.Gauge;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * {@code user_denylist}: the Synapse docs' spam-checker example ({@code evil_users}), generalised to
 * globs and to the spam-checker callbacks that name the user who acts. The {@code users} are compiled once at startup;
 * a {@code users-file} is read at startup and again whenever it changes; an instance a reload builds
 * reads it as carefully as a change is read, since the list of the instance it replaces is in force.
 */
@Component
class UserDenylistModuleType extends ModuleType<UserDenylistConfig> {
    private static final Logger log = LoggerFactory.getLogger(UserDenylistModuleType.class);

    UserDenylistModuleType() {
        super(Denylist.MODULE_TYPE, UserDenylistConfig.class);
    }

    @Override
    public PolicyModule create(UserDenylistConfig config, ModuleContext context) {
        if (config.users().isEmpty() && config.usersFile() == null) {
            throw new ModuleConfigurationException("users", "must not be empty when there is no users-file: list user IDs "
                    + "in users, or name a file of them in users-file");
        }
        UserIdMatcher users = ConfigValues.users("users", config.users());
        Rejection rejection = ConfigValues.rejection(config.errcode(), config.error());
        var callbacks = ConfigValues.callbacks("callbacks", config.callbacks(), UserDenylist.SUPPORTED);
        if (config.usersFile() == null) {
            warnIfEveryUser(users, context.instanceName(), "users");
            registerMeters(() -> users, context);
            return new UserDenylist(() -> users, callbacks, rejection, Optional.empty());
        }
        // the file of the instance a reload replaces, whose list serves until this one's: its first read is as careful as a check's
        Optional<UserListFile> before = context.predecessor().filter(UserDenylist.class::isInstance).map(UserDenylist.class::cast)
                .flatMap(UserDenylist::file);
        UserListFile file = UserListFile.watch(context.instanceName(), "users-file", config.usersFile(), config.users(),
                config.reloadInterval(), before);
        warnIfEveryUser(file.current(), context.instanceName(), "users and users-file");
        registerMeters(file::current, context);
        return new UserDenylist(file::current, callbacks, rejection, Optional.of(file));
    }

    /**
     * A list that names every user ({@code *}, {@code @*:*}) refuses everyone on the callbacks it
     * serves. It may be meant (a gateway closed while an incident lasts), so it starts, with a warning.
     */
    private static void warnIfEveryUser(UserIdMatcher users, String instance, String where) {
        if (MatrixIds.unlikeIds('@').stream().allMatch(users::matches)) {
            log.warn("{}: {} hold an entry that names every user (such as * or @*:*): every user is refused on the"
                    + " callbacks it serves", instance, where);
        }
    }

    private static void registerMeters(Supplier<UserIdMatcher> listed, ModuleContext context) {
        context.bindMeters(registry -> {
            Gauge.builder("policy.module.denylist.entries", () -> listed.get().exactCount())
                    .description("Entries of a user_denylist instance, by kind")
                    .tags("module", context.instanceName(), "kind", "exact")
                    .register(registry);
            Gauge.builder("policy.module.denylist.entries", () -> listed.get().globCount())
                    .description("Entries of a user_denylist instance, by kind")
                    .tags("module", context.instanceName(), "kind", "glob")
                    .register(registry);
        });
    }
}
