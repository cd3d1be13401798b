package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.RedisState;
import dev.matrixpolicy.gateway.state.SharedState;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.ssl.PemSslBundleProperties;
import org.springframework.boot.autoconfigure.ssl.SslProperties;
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
    SharedState sharedState(PolicyGatewayProperties properties, MeterRegistry meterRegistry, ObjectProvider<SslBundles> sslBundles,
                            ObjectProvider<SslProperties> sslProperties) {
        return properties.state().sharedRedis().<SharedState>map(redis -> {
            RedisState state = new RedisState(redis.url(), redis.timeout(), redis.keyPrefix(), tls(redis, sslBundles), meterRegistry);
            if (redis.sslBundle() != null) {
                sslBundles.getObject().addBundleUpdateHandler(redis.sslBundle(), renewed -> renewTls(state, redis.sslBundle(), renewed,
                        sslProperties.getIfAvailable(SslProperties::new)));
            }
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
            return Optional.of(tlsOf(bundles.getBundle(redis.sslBundle())));
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

    /** The bundle's files read now: Spring Boot reads a PEM bundle's files when first asked for its managers. */
    private static RedisState.Tls tlsOf(SslBundle bundle) {
        SslManagerBundle managers = bundle.getManagers();
        return new RedisState.Tls(managers.getKeyManagerFactory(), managers.getTrustManagerFactory(),
                listOf(bundle.getOptions().getEnabledProtocols()), listOf(bundle.getOptions().getCiphers()));
    }

    /**
     * The bundle's files changed ({@code spring.ssl.bundle.*.<name>.reload-on-update}): the connections
     * made from now on use them, Lettuce's reconnects included. Files that cannot be loaded (a key
     * gone from the Secret, a half-written file) leave the connections with what they had.
     */
    private static void renewTls(RedisState state, String name, SslBundle renewed, SslProperties ssl) {
        RedisState.Tls next;
        try {
            next = tlsOf(renewed);
        } catch (RuntimeException unloadable) {
            log.warn("Redis TLS: the SSL bundle '{}' changed, but its files cannot be loaded: {} (its files: {}). Connections to "
                    + "Redis keep using the certificates loaded before", name, said(unloadable), String.join(", ", filesOf(ssl, name)));
            return;
        }
        state.renewTls(next);
        log.info("Redis TLS: the SSL bundle '{}' changed; connections to Redis made from now on, reconnections included, "
                + "use its new certificates (established connections keep theirs)", name);
    }

    /**
     * The files {@code spring.ssl.bundle.*.<name>} names, as written ({@code file:/...}), for a message
     * that cannot tell which one failed (a file holding no key is not named by the failure); a PEM
     * written into the setting itself is left out, a private key above all.
     */
    private static List<String> filesOf(SslProperties ssl, String name) {
        List<String> files = new ArrayList<>();
        Optional.ofNullable(ssl.getBundle().getPem().get(name)).ifPresent(pem -> {
            for (PemSslBundleProperties.Store store : List.of(pem.getKeystore(), pem.getTruststore())) {
                files.add(store.getCertificate());
                files.add(store.getPrivateKey());
            }
        });
        Optional.ofNullable(ssl.getBundle().getJks().get(name)).ifPresent(jks -> {
            files.add(jks.getKeystore().getLocation());
            files.add(jks.getTruststore().getLocation());
        });
        return files.stream().filter(file -> file != null && !file.contains("-----BEGIN")).toList();
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
     * How full the state in memory is, and how many keys it forgot for room: a bucket forgotten comes
     * back full, so a flood of distinct keys (a hostile server's many users) that evicts buckets
     * weakens the limits, which only this tells. Nothing for Redis, whose own metrics say it.
     */
    @Bean
    MeterBinder sharedStateMemory(SharedState state) {
        return registry -> {
            if (state instanceof MemoryState memory) {
                Gauge.builder("policy.state.memory", memory, MemoryState::estimatedBytes).baseUnit("bytes")
                        .description("What the keys of the shared state in memory take, as estimated").register(registry);
                Gauge.builder("policy.state.memory.max", memory, MemoryState::maxBytes).baseUnit("bytes")
                        .description("The most the shared state in memory may take: a quarter of the heap").register(registry);
                FunctionCounter.builder("policy.state.evictions", memory, MemoryState::evictions).tag("backend", "memory")
                        .description("Keys the shared state in memory forgot for room while they still mattered: buckets that "
                                + "come back full, windows that come back empty").register(registry);
            }
        };
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
