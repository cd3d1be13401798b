package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.RedisState;
import dev.matrixpolicy.gateway.state.SharedState;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

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
    SharedState sharedState(PolicyGatewayProperties properties, MeterRegistry meterRegistry) {
        return properties.state().sharedRedis().<SharedState>map(redis -> {
            RedisState state = new RedisState(redis.url(), redis.timeout(), redis.keyPrefix(), meterRegistry);
            if (state.awaitConnection(FIRST_CONNECTION)) {
                log.info("Shared state: Redis at {}, keys prefixed {}", redis.address(), redis.keyPrefix());
            } else {
                log.warn("Shared state: Redis at {} does not answer yet; limits that use it fail by their entry's "
                        + "on-failure until it does", redis.address());
            }
            return state;
        }).orElseGet(MemoryState::new);
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
