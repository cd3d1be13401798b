package dev.matrixpolicy.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

/** The drain belongs to Boot's graceful shutdown: on with it (the default), off with an immediate one. */
class ServerConfigurationTest {
    private final WebApplicationContextRunner context = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class))
            .withUserConfiguration(ServerConfiguration.class);

    @Test
    void drainsWithTheDefaultGracefulShutdownBeforeBootsOwnPhaseBegins() {
        context.run(started -> {
            assertThat(started).hasSingleBean(ConnectionDrain.class);
            // Lifecycle beans stop in descending phase order.
            assertThat(started.getBean(ConnectionDrain.class).getPhase())
                    .isGreaterThan(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE);
            // Pausing a context (Spring's test framework does, between test classes) must leave the port open.
            assertThat(started.getBean(ConnectionDrain.class).isPauseable()).isFalse();
        });
    }

    @Test
    void doesNotDrainWhenShutdownIsImmediate() {
        context.withPropertyValues("server.shutdown=immediate")
                .run(started -> assertThat(started).doesNotHaveBean(ConnectionDrain.class));
    }
}
