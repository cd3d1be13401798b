package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.Backoff;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.RetryPolicy;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.stereotype.Component;

/**
 * {@code http}: forwards the configured callbacks to a remote policy service that speaks the
 * gateway's own REST contract, so a policy can be written in any language.
 */
@Component
class HttpModuleType extends ModuleType<HttpConfig> {

    HttpModuleType() {
        super("http", HttpConfig.class);
    }

    @Override
    public PolicyModule create(HttpConfig config, ModuleContext context) {
        URI url = BackendUrls.require("url", config.url());
        Map<CallbackType<?, ?, ?>, Duration> callbacks = callbacks(config);
        Map<LoginType, Duration> loginTypes = new LinkedHashMap<>();
        for (int i = 0; i < config.loginTypes().size(); i++) {
            loginTypes.put(loginType(config.loginTypes().get(i), "login-types[" + i + "]"),
                    config.timeouts().getOrDefault(CheckAuth.TYPE.name(), config.timeout()));
        }
        if (callbacks.isEmpty() && loginTypes.isEmpty()) {
            throw new ModuleConfigurationException("callbacks", "name at least one callback to forward (or a login type under login-types)");
        }
        checkTimeouts(config, Stream.concat(callbacks.keySet().stream(), loginTypes.isEmpty() ? Stream.empty() : Stream.of(CheckAuth.TYPE))
                .map(CallbackType::name).toList());
        RetryPolicy retries = new RetryPolicy(1 + config.retries(),
                Backoff.of("retry-backoff", config.retryBackoff(), "retry-max-backoff", config.retryMaxBackoff()));
        return new HttpForwarder(new HttpForwarder.Settings(url, callbacks, loginTypes, ConfigValues.bearerToken(config.token(), config.tokenFile(), context),
                config.connectTimeout(), config.maxReplySize(), retries,
                config.circuitBreaker(), config.failureMode()), context);
    }

    /** The forwarded callbacks, in configuration order, each with its timeout. */
    private static Map<CallbackType<?, ?, ?>, Duration> callbacks(HttpConfig config) {
        Map<CallbackType<?, ?, ?>, Duration> callbacks = new LinkedHashMap<>();
        for (int i = 0; i < config.callbacks().size(); i++) {
            String name = config.callbacks().get(i);
            String field = "callbacks[" + i + "]";
            CallbackType<?, ?, ?> callback = ConfigValues.callback(field, name, Callbacks.ALL, "a Synapse callback; known callbacks:");
            if (callback == CheckAuth.TYPE) {
                throw new ModuleConfigurationException(field, "check_auth is forwarded per login type: list them under login-types, "
                        + "each with the fields it needs");
            }
            callbacks.put(callback, config.timeouts().getOrDefault(name, config.timeout()));
        }
        return callbacks;
    }

    /** A configured login type, its type and each field's name checked as Synapse's clients can be offered them. */
    private static LoginType loginType(HttpConfig.LoginTypeConfig login, String field) {
        ConfigValues.loginName(field + ".type", login.type());
        for (int j = 0; j < login.fields().size(); j++) {
            ConfigValues.loginName(field + ".fields[" + j + "]", login.fields().get(j));
        }
        return new LoginType(login.type(), login.fields());
    }

    /** A timeout for a callback this module does not forward is a typo, not a no-op. */
    private static void checkTimeouts(HttpConfig config, List<String> forwarded) {
        config.timeouts().keySet().stream().filter(name -> !forwarded.contains(name)).findFirst().ifPresent(name -> {
            throw new ModuleConfigurationException("timeouts." + name, "'" + name + "' is not forwarded by this module; "
                    + "forwarded: " + forwarded);
        });
    }
}
