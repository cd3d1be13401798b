package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/** A swap is atomic for requests, and modules close only when nothing can call them any more. */
class GenerationsTest {
    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final InstanceMeters meters = new InstanceMeters(registry);
    private final List<String> closed = new ArrayList<>();

    @AfterEach
    void stop() {
        runner.close();
    }

    @Test
    void aLeaseKeepsItsGenerationAcrossASwapAndNewLeasesGetTheNewOne() {
        Generations generations = new Generations(generation(1, module("a")), meters, Runnable::run);

        try (Generations.Lease inFlight = generations.lease()) {
            generations.swap(generation(2, module("b")));

            assertThat(inFlight.generation().number()).isEqualTo(1);
            try (Generations.Lease next = generations.lease()) {
                assertThat(next.generation().number()).isEqualTo(2);
            }
        }
    }

    @Test
    void theReplacedModulesCloseOnlyWhenTheLastLeaseOnTheirGenerationReturns() {
        Generations generations = new Generations(generation(1, module("old")), meters, Runnable::run);
        Generations.Lease inFlight = generations.lease();

        generations.swap(generation(2, module("new")));
        assertThat(closed).as("a request still runs on the old chains").isEmpty();

        inFlight.close();
        assertThat(closed).containsExactly("old");
    }

    @Test
    void aModuleCarriedIntoTheNextGenerationStaysOpen() {
        ModuleInstance kept = module("kept");
        Generations generations = new Generations(generation(1, kept, module("replaced")), meters, Runnable::run);

        generations.swap(generation(2, kept, module("replacement")));

        assertThat(closed).containsExactly("replaced");
    }

    @Test
    void aModuleStillHeldByAnOlderGenerationThatIsFinishingIsNotClosedWithTheNewerOne() {
        ModuleInstance shared = module("shared");
        Generations generations = new Generations(generation(1, shared), meters, Runnable::run);
        Generations.Lease onFirst = generations.lease();
        generations.swap(generation(2, shared));
        generations.swap(generation(3, module("other")));

        assertThat(closed).as("generation 1 still runs a request with it").isEmpty();
        onFirst.close();
        assertThat(closed).containsExactly("shared");
    }

    @Test
    void shutdownClosesEveryServingModuleOnce() {
        Generations generations = new Generations(generation(1, module("a"), module("b")), meters, Runnable::run);

        generations.close();
        generations.close();

        assertThat(closed).containsExactly("a", "b");
    }

    @Test
    void aReplacementWithTheSameNameReportsItsOwnStateNotTheOldOnes() {
        AtomicInteger oldSize = new AtomicInteger(1);
        AtomicInteger newSize = new AtomicInteger(2);
        PolicyModule old = closing("list");
        PolicyModule replacement = closing("list");
        meters.keep(old, List.of(meters -> Gauge.builder("entries", oldSize, AtomicInteger::get).register(meters)));
        meters.keep(replacement, List.of(meters -> Gauge.builder("entries", newSize, AtomicInteger::get).register(meters)));
        Generations generations = new Generations(generation(1, instance("list", old)), meters, Runnable::run);
        assertThat(registry.get("entries").gauge().value()).isEqualTo(1.0);

        generations.swap(generation(2, instance("list", replacement)));

        assertThat(registry.get("entries").gauge().value()).isEqualTo(2.0);
    }

    private Generation generation(long number, ModuleInstance... modules) {
        PolicyGatewayProperties properties = new PolicyGatewayProperties("example.com", new PolicyGatewayProperties.Auth(null, null),
                new PolicyGatewayProperties.Admin(null, null), new PolicyGatewayProperties.DecisionLog(100),
                new PolicyGatewayProperties.Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)), DataSize.ofMegabytes(1),
                List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
        return new Generation(number, properties, List.of(modules), new CallbackChains(List.of(modules), runner),
                Optional.empty(), Optional.empty(), Instant.EPOCH);
    }

    private ModuleInstance module(String name) {
        return instance(name, closing(name));
    }

    private static ModuleInstance instance(String name, PolicyModule module) {
        return new ModuleInstance(0, "test", name, module, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));
    }

    private PolicyModule closing(String name) {
        return new PolicyModule() {
            @Override
            public void close() {
                closed.add(name);
            }
        };
    }
}
