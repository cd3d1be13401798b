package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/**
 * The {@code policyLists} health component: per {@code policy_list} instance, its sources that are
 * stale, have not read yet, whose rules could not be compiled, or are failing while they serve their
 * last good rules. It is {@code OUT_OF_SERVICE} only when an instance configured with
 * {@code readiness: fresh} has a source of the first three kinds; it is part of the readiness group.
 */
@Component("policyLists")
final class PolicyListsHealthIndicator extends AbstractHealthIndicator {
    private final Generations generations;
    private final Clock clock = Clock.systemUTC();

    PolicyListsHealthIndicator(Generations generations) {
        super("Policy list health check failed");
        this.generations = generations;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Instant now = clock.instant();
        boolean ready = true;
        Map<String, Object> details = new LinkedHashMap<>();
        for (ModuleInstance instance : generations.current().modules()) {
            if (instance.module() instanceof PolicyListView view) {
                PolicyListView.Readiness readiness = view.readiness(now);
                ready &= readiness.ready();
                details.put(instance.name(), readiness.problems().isEmpty() ? "fresh" : readiness.problems());
            }
        }
        (ready ? builder.up() : builder.outOfService()).withDetails(details);
    }
}
