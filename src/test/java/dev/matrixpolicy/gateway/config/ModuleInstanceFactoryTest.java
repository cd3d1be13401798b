package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.validation.Validation;
import jakarta.validation.ValidatorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

class ModuleInstanceFactoryTest {
    private final List<String> closed = new ArrayList<>();
    private final ValidatorFactory validation = Validation.buildDefaultValidatorFactory();

    @AfterEach
    void closeValidation() {
        validation.close();
    }

    /** A module type whose instances record their closing, or whose creation fails with {@code failure}. */
    private final class Recording extends ModuleType<Recording.Config> {
        record Config() {
        }

        private final Error failure;

        Recording(String name, Error failure) {
            super(name, Config.class);
            this.failure = failure;
        }

        @Override
        public PolicyModule create(Config config, ModuleContext context) {
            if (failure != null) {
                throw failure;
            }
            return new PolicyModule() {
                @Override
                public void close() {
                    closed.add(context.instanceName());
                }
            };
        }
    }

    @Test
    void anErrorWhileBuildingAnEntryClosesTheInstancesBuiltBeforeIt() {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("test", Map.of(
                "policy-gateway.modules[0].module", "recording",
                "policy-gateway.modules[0].name", "first",
                "policy-gateway.modules[1].module", "out_of_memory")));
        PolicyGatewayProperties properties = Binder.get(environment)
                .bind("policy-gateway", PolicyGatewayProperties.class).get();
        OutOfMemoryError outOfMemory = new OutOfMemoryError("Java heap space");
        ModuleInstanceFactory factory = new ModuleInstanceFactory(
                List.of(new Recording("recording", null), new Recording("out_of_memory", outOfMemory)),
                validation.getValidator(), new InstanceMeters(new SimpleMeterRegistry()));

        assertThatThrownBy(() -> factory.build(properties, environment, Optional.empty())).isSameAs(outOfMemory);
        assertThat(closed).as("the instance built before the failure, with its threads, is closed").containsExactly("first");
    }
}
