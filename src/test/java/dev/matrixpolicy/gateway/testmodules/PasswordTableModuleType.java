package dev.matrixpolicy.gateway.testmodules;

import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code test_password}: an auth checker over a plain-text table. For tests only; never a model for
 * storing passwords.
 */
final class PasswordTableModuleType extends ModuleType<PasswordTableModuleType.Config> {

    /**
     * @param loginType the login type checked
     * @param field     the login field holding the secret
     * @param users     localpart to secret
     */
    record Config(@NotBlank String loginType, @NotBlank String field, @NotEmpty Map<String, String> users) {
    }

    PasswordTableModuleType() {
        super("test_password", Config.class);
    }

    @Override
    public PolicyModule create(Config config, ModuleContext context) {
        CheckAuth checker = args -> {
            String localpart = args.user().startsWith("@") ? args.user().substring(1, args.user().indexOf(':')) : args.user();
            String given = args.loginDict().path(config.field()).asString("");
            return given.equals(config.users().get(localpart))
                    ? Optional.of("@" + localpart + ":" + context.serverName()) : Optional.empty();
        };
        return new PolicyModule() {
            @Override
            public Map<LoginType, CheckAuth> authCheckers() {
                return Map.of(new LoginType(config.loginType(), List.of(config.field())), checker);
            }
        };
    }
}
