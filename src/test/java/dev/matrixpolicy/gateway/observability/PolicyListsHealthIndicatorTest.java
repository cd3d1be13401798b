package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import dev.matrixpolicy.gateway.support.ServingGenerations;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;

/**
 * The readiness rule of the {@code policyLists} component across a start and a reload: not ready while
 * a list's first read is under way at startup; once ready, a list a reload adds does not take the
 * gateway out of its Service while it reads (every replica reloads at once).
 */
class PolicyListsHealthIndicatorTest {

    /** A policy list whose readiness the test sets. */
    private static final class Lists implements PolicyModule, PolicyListView {
        volatile Readiness readiness;

        Lists(Readiness readiness) {
            this.readiness = readiness;
        }

        @Override
        public Readiness readiness(Instant now) {
            return readiness;
        }

        @Override
        public List<SourceReport> sources() {
            return List.of();
        }

        @Override
        public Explanation explain(String entity) {
            throw new UnsupportedOperationException("not asked by health");
        }
    }

    private static final PolicyListView.Readiness STARTING =
            new PolicyListView.Readiness(true, true, Map.of("community", "first read under way"));
    private static final PolicyListView.Readiness READ = new PolicyListView.Readiness(true, false, Map.of());

    @Test
    void aFirstReadUnderWayAtStartupKeepsTheGatewayUnreadyUntilItEnds() {
        Lists bans = new Lists(STARTING);
        PolicyListsHealthIndicator indicator = indicator(new Generations(ServingGenerations.of(1, instance("bans", bans)),
                new InstanceMeters(new SimpleMeterRegistry())));

        assertThat(indicator.health(true).getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
        assertThat(indicator.health(true).getDetails()).containsEntry("bans", Map.of("community", "first read under way"));

        bans.readiness = READ;
        assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
        assertThat(indicator.health(true).getDetails()).containsEntry("bans", "fresh");
    }

    @Test
    void onceReadyAListAReloadAddsDoesNotMakeTheGatewayUnreadyWhileItReads() {
        Generations generations = new Generations(ServingGenerations.of(1, instance("bans", new Lists(READ))),
                new InstanceMeters(new SimpleMeterRegistry()));
        PolicyListsHealthIndicator indicator = indicator(generations);
        assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);

        generations.swap(ServingGenerations.of(2, instance("bans", new Lists(READ)), instance("more-bans", new Lists(STARTING))));

        assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
        assertThat(indicator.health(true).getDetails()).containsEntry("more-bans", Map.of("community", "first read under way"));
    }

    private static PolicyListsHealthIndicator indicator(Generations generations) {
        return new PolicyListsHealthIndicator(generations);
    }

    private static ModuleInstance instance(String name, PolicyModule module) {
        return new ModuleInstance(0, "policy_list", name, module, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));
    }
}
