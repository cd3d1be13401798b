package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The shared state the configuration makes, as its metrics show it. */
class StateConfigurationTest {
    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = "dev.matrixpolicy.gateway.config")
    static class Gateway {
    }

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("serves no module");

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com");

    /** A bucket the state in memory forgets for room comes back full: only these meters tell that limits weaken. */
    @Test
    void theStateInMemoryShowsWhatItHoldsOfItsShareAndWhatItForgotForRoom() {
        runner.run(context -> {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            context.getBean("sharedStateMemory", MeterBinder.class).bindTo(registry);
            context.getBean(SharedState.class).take("rate_limits:events:sender:@a:example.com", new Bucket(1, Duration.ofMinutes(1)));

            assertThat(registry.get("policy.state.memory").gauge().value()).isPositive();
            assertThat(registry.get("policy.state.memory.max").gauge().value())
                    .isEqualTo((double) Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4));
            assertThat(registry.get("policy.state.evictions").tag("backend", "memory").functionCounter().count()).isZero();
        });
    }
}
