package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InstanceMetersTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final InstanceMeters meters = new InstanceMeters(registry);

    @Test
    void aSeriesOnlyTheRetiredInstanceRegisteredGoesAndOneItsSuccessorRegisteredAgainCountsOnWithTheSameMeter() {
        MeterRegistry first = meters.open("filter");
        Counter kept = rule(first, "kept");
        rule(first, "dropped");
        ModuleInstance old = instance("filter");
        meters.keep(old.module(), List.of(), first);
        kept.increment();

        MeterRegistry second = meters.open("filter");
        Counter keptAgain = rule(second, "kept");
        rule(second, "added");
        meters.keep(instance("filter").module(), List.of(), second);
        meters.retire(List.of(old), Map.of("filter", Set.of()));

        assertThat(keptAgain).as("the registry's own meter, which the scrape reads").isSameAs(kept)
                .isSameAs(registry.find("policy.rule").tag("rule", "kept").counter());
        keptAgain.increment();
        assertThat(registry.find("policy.rule").tag("rule", "kept").counter().count()).isEqualTo(2.0);
        assertThat(registry.find("policy.rule").tag("rule", "dropped").counter()).isNull();
        assertThat(registry.find("policy.rule").tag("rule", "added").counter()).isNotNull();
    }

    @Test
    void anInstanceStillBeingBuiltKeepsTheSeriesItRegisteredWhenTheLastInstanceOfItsNameRetires() {
        MeterRegistry first = meters.open("filter");
        rule(first, "kept");
        ModuleInstance old = instance("filter");
        meters.keep(old.module(), List.of(), first);

        Counter building = rule(meters.open("filter"), "kept"); // a reload building the name again, not serving yet
        meters.retire(List.of(old), Map.of());

        assertThat(registry.find("policy.rule").tag("rule", "kept").counter()).as("not left counting where no scrape reads")
                .isSameAs(building);
    }

    @Test
    void theChainsSeriesOfACallbackTheNameIsNoLongerLinkedToGoAndThoseOfTheOthersStay() {
        ModuleInstance old = instance("forwarder");
        meters.keep(old.module(), List.of(), meters.open("forwarder"));
        registry.counter("policy.decisions", "module", "forwarder", "callback", "user_may_invite").increment();
        registry.counter("policy.decisions", "module", "forwarder", "callback", "user_may_join_room").increment();
        registry.counter("policy.module.backend", "module", "forwarder").increment();

        meters.retire(List.of(old), Map.of("forwarder", Set.of("user_may_join_room")));

        assertThat(registry.find("policy.decisions").tag("callback", "user_may_invite").counter()).isNull();
        assertThat(registry.find("policy.decisions").tag("callback", "user_may_join_room").counter()).isNotNull();
        assertThat(registry.find("policy.module.backend").counter()).as("the name still serves").isNotNull();
    }

    private static Counter rule(MeterRegistry instanceRegistry, String rule) {
        return Counter.builder("policy.rule").tags("module", "filter", "rule", rule).register(instanceRegistry);
    }

    private static ModuleInstance instance(String name) {
        return new ModuleInstance(0, "test", name, new PolicyModule() {
        }, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));
    }
}
