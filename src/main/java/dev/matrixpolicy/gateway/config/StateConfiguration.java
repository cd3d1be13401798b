package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.RedisState;
import dev.matrixpolicy.gateway.state.SharedState;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.SslManagerBundle;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.NestedExceptionUtils;

/**
 * The one {@link SharedState} of the process ({@code policy-gateway.state}), for the module types
 * that keep counters: in memory, or in Redis when {@code policy-gateway.state.redis.url} is set.
 * Closed at shutdown once the last requests have been answered, before the web server stops.
 */
@Configuration(proxyBeanMethods = false)
class StateConfiguration {
    private static final Logger log = LoggerFactory.getLogger(StateConfiguration.class);
    /** How long startup waits for Redis, so that the first calls find the connection made. */
    private static final Duration FIRST_CONNECTION = Duration.ofSeconds(5);

    @Bean(destroyMethod = "close")
    SharedState sharedState(PolicyGatewayProperties properties, MeterRegistry meterRegistry, ObjectProvider<SslBundles> sslBundles) {
        return properties.state().sharedRedis().<SharedState>map(redis -> {
            RedisState state = new RedisState(redis.url(), redis.timeout(), redis.keyPrefix(), tls(redis, sslBundles), meterRegistry);
            if (state.awaitConnection(FIRST_CONNECTION)) {
                log.info("Shared state: Redis at {}, keys prefixed {}", redis.address(), redis.keyPrefix());
            } else {
                log.warn("Shared state: Redis at {} does not answer yet ({}); limits that use it fail by their entry's "
                        + "on-failure until it does", redis.address(),
                        state.connectionFailure().orElse("no connection after " + FIRST_CONNECTION.toSeconds() + " s"));
            }
            return state;
        }).orElseGet(MemoryState::new);
    }

    /**
     * What the bundle {@code ssl-bundle} names holds, loaded now: a name no bundle has, or a bundle
     * whose files cannot be read, stops startup naming the key, rather than failing every connection.
     */
    private static Optional<RedisState.Tls> tls(PolicyGatewayProperties.State.Redis redis, ObjectProvider<SslBundles> sslBundles) {
        if (redis.sslBundle() == null) {
            return Optional.empty();
        }
        String key = PolicyGatewayProperties.State.Redis.PREFIX + ".ssl-bundle";
        try {
            SslBundles bundles = sslBundles.getIfAvailable();
            if (bundles == null) {
                throw new NoSuchSslBundleException(redis.sslBundle(), "no SSL bundles are configured");
            }
            SslBundle bundle = bundles.getBundle(redis.sslBundle());
            SslManagerBundle managers = bundle.getManagers();
            return Optional.of(new RedisState.Tls(managers.getKeyManagerFactory(), managers.getTrustManagerFactory(),
                    listOf(bundle.getOptions().getEnabledProtocols()), listOf(bundle.getOptions().getCiphers())));
        } catch (NoSuchSslBundleException missing) {
            throw new InvalidConfigurationException("Invalid configuration", new BadSetting(key, null, null,
                    "no SSL bundle is named '" + redis.sslBundle() + "'",
                    "Define it: spring.ssl.bundle.pem." + redis.sslBundle() + ".truststore.certificate names the PEM file of the "
                            + "certificate authority of Redis's certificate (docs/configuration.md); or correct " + key + "."),
                    missing);
        } catch (RuntimeException unloadable) {
            throw new InvalidConfigurationException("Invalid configuration", new BadSetting(key, null, null,
                    "the SSL bundle '" + redis.sslBundle() + "' cannot be loaded: " + said(unloadable),
                    "Correct the files spring.ssl.bundle.*." + redis.sslBundle() + " names, or let the gateway's user read them."),
                    unloadable);
        }
    }

    /** The failure's words, and its innermost cause's ({@code NoSuchFileException: /etc/...}) when they differ. */
    private static String said(Throwable failure) {
        Throwable root = NestedExceptionUtils.getMostSpecificCause(failure);
        return root == failure ? String.valueOf(failure.getMessage()) : failure.getMessage() + " (" + root + ")";
    }

    private static List<String> listOf(String[] values) {
        return values == null ? List.of() : List.of(values);
    }

    /**
     * Closes the shared state after Boot's graceful shutdown has let the requests in flight finish,
     * and before Tomcat stops. Lettuce starts some of its threads lazily, from the request that first
     * needs them; closed later, they would outlive the web application that started them.
     */
    @Bean
    SmartLifecycle sharedStateClosing(SharedState state) {
        return new SmartLifecycle() {
            private volatile boolean running;

            @Override
            public void start() {
                running = true;
            }

            @Override
            public void stop() {
                running = false;
                state.close();
            }

            @Override
            public boolean isRunning() {
                return running;
            }

            @Override
            public int getPhase() {
                return WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE - 1;
            }

            /** A paused context (a test framework's cache) keeps serving when resumed; so does its state. */
            @Override
            public boolean isPauseable() {
                return false;
            }
        };
    }
}
