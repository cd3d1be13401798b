package dev.matrixpolicy.gateway.modules.threepidchecker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.modules.threepidchecker.ThreepidChecker.Threepid;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.net.URI;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * {@code threepid_checker}: synapse-3pid-checker as a gateway module. Asks a backend whether a 3PID
 * may be bound on this homeserver ({@code is_3pid_allowed}).
 */
@Component
class ThreepidCheckerModuleType extends ModuleType<ThreepidCheckerConfig> {

    ThreepidCheckerModuleType() {
        super("threepid_checker", ThreepidCheckerConfig.class);
    }

    @Override
    public PolicyModule create(ThreepidCheckerConfig config, ModuleContext context) {
        URI url = backendUrl(config.url());
        Optional<Cache<Threepid, Boolean>> verdicts = Optional.empty();
        if (config.cacheTtl().isPositive()) {
            Cache<Threepid, Boolean> cache = Caffeine.newBuilder()
                    .expireAfterWrite(config.cacheTtl())
                    .maximumSize(config.cacheMaxSize())
                    .executor(Runnable::run)
                    .recordStats()
                    .build();
            context.bindMeters(new CaffeineCacheMetrics<>(cache, context.instanceName(), Tags.empty()));
            verdicts = Optional.of(cache);
        }
        // As Synapse's client does for the original: HTTP/1.1 (no h2c upgrade dance with plain-http
        // backends), no redirects (a 3xx is a failure), and one timeout for connecting and for the reply.
        Backend backend = Backend.builder(context, config.timeout()).maxReplySize(config.maxReplySize()).build();
        return new ThreepidChecker(context.serverName(), config.onlyCheckAtRegistration(), config.failureMode(), url,
                config.timeout(), backend, verdicts);
    }

    /**
     * An absolute http or https URL with a host; user info and a fragment are refused because they are
     * never sent.
     * Problems are described without echoing the URL, which may carry a secret in its query string.
     */
    static URI backendUrl(String configured) {
        return BackendUrls.parse("url", configured);
    }
}
