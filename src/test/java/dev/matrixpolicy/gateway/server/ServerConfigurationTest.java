package dev.matrixpolicy.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.lang.management.ManagementFactory;
import jdk.management.VirtualThreadSchedulerMXBean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

/**
 * Virtual threads get two carriers per processor before the servers start; the drain belongs to
 * Boot's graceful shutdown: on with it (the default), off with an immediate one.
 */
class ServerConfigurationTest {
    @RegisterExtension
    final LoggedLines carriers = LoggedLines.of(CarrierThreads.class, Level.INFO);

    private final WebApplicationContextRunner context = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class))
            .withUserConfiguration(ServerConfiguration.class);

    @Test
    void virtualThreadsRunOnTwoCarriersPerProcessorAndTheStartSaysHowMany() {
        int expected = 2 * Runtime.getRuntime().availableProcessors();
        context.run(started -> {
            assertThat(started.getBean(CarrierThreads.class).count()).isEqualTo(expected);
            assertThat(ManagementFactory.getPlatformMXBean(VirtualThreadSchedulerMXBean.class).getParallelism())
                    .isEqualTo(expected);
        });
        assertThat(carriers.at(Level.INFO)).containsExactly("Virtual threads run on " + expected
                + " carrier threads, 2 per processor (-Djdk.virtualThreadScheduler.parallelism sets another count)");
    }

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
