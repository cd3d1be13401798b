package dev.matrixpolicy.gateway.modules.threepidchecker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.matrixpolicy.gateway.callbacks.PolicyModule;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.modules.threepidchecker.ThreepidChecker.Threepid;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * {@code threepid_checker}: synapse-3pid-checker as a gateway module. Asks a backend whether a 3PID
 * may be bound on this homeserver ({@code is_3pid_allowed}).
 */
@Component
class ThreepidCheckerModuleType implements ModuleType<ThreepidCheckerConfig> {

    @Override
    public String name() {
        return "threepid_checker";
    }

    @Override
    public Class<ThreepidCheckerConfig> configType() {
        return ThreepidCheckerConfig.class;
    }

    @Override
    public PolicyModule create(ThreepidCheckerConfig config, ModuleContext context) {
        URI url = backendUrl(config.url());
        Optional<Cache<Threepid, Boolean>> verdicts = Optional.empty();
        if (config.cacheTtl().isPositive()) {
            Cache<Threepid, Boolean> cache = Caffeine.newBuilder()
                    .expireAfterWrite(config.cacheTtl())
                    .maximumSize(config.cacheMaxSize())
                    .recordStats()
                    .build();
            CaffeineCacheMetrics.monitor(context.meterRegistry(), cache, context.instanceName());
            verdicts = Optional.of(cache);
        }
        ThreepidBackend backend = new ThreepidBackend(url, config.timeout(), context.instanceName(), context.meterRegistry());
        return new ThreepidChecker(context.instanceName(), context.serverName(), config.onlyCheckAtRegistration(),
                config.failureMode(), backend, verdicts);
    }

    /**
     * An absolute http or https URL with a host; user info and a fragment are refused because they are
     * never sent.
     * Problems are described without echoing the URL, which may carry a secret in its query string.
     */
    static URI backendUrl(String configured) {
        URI url;
        try {
            url = new URI(configured.strip());
        } catch (URISyntaxException malformed) {
            throw new ModuleConfigurationException("url", "not a valid URL: " + malformed.getReason());
        }
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ModuleConfigurationException("url", "must be an absolute http or https URL, got "
                    + (scheme.isEmpty() ? "no scheme" : "scheme '" + scheme + "'"));
        }
        if (url.getHost() == null) {
            throw new ModuleConfigurationException("url", "has no host name");
        }
        if (url.getRawUserInfo() != null) {
            // The JDK client ignores them: the backend would see no credentials at all.
            throw new ModuleConfigurationException("url", "credentials in the URL (user:password@) are never sent");
        }
        if (url.getRawFragment() != null) {
            throw new ModuleConfigurationException("url", "must not have a #fragment: it is never sent to the server");
        }
        return url;
    }
}
