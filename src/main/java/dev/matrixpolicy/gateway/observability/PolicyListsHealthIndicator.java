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
 * last good rules. It is part of the readiness group, and {@code OUT_OF_SERVICE} when an instance
 * configured with {@code readiness: fresh} has a source of the first three kinds (a first read under
 * way only once it has gone on for {@code stale-after}), and, until the
 * gateway has first been ready, while any source's first read is under way (neither in force nor
 * failed): a new pod takes no traffic before its lists are in force. Once it has been ready, a source
 * a reload adds never makes it unready while it reads, which would take every replica out at once.
 */
@Component("policyLists")
final class PolicyListsHealthIndicator extends AbstractHealthIndicator {
    private final Generations generations;
    private final Clock clock = Clock.systemUTC();
    /** Whether this component was once UP: from then on a first read under way is no reason to be unready. */
    private volatile boolean wasUp;

    PolicyListsHealthIndicator(Generations generations) {
        super("Policy list health check failed");
        this.generations = generations;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Instant now = clock.instant();
        boolean ready = true;
        boolean starting = false;
        Map<String, Object> details = new LinkedHashMap<>();
        for (ModuleInstance instance : generations.current().modules()) {
            if (instance.module() instanceof PolicyListView view) {
                PolicyListView.Readiness readiness = view.readiness(now);
                ready &= readiness.ready();
                starting |= readiness.starting();
                details.put(instance.name(), readiness.problems().isEmpty() ? "fresh" : readiness.problems());
            }
        }
        boolean up = ready && (wasUp || !starting);
        if (up) {
            wasUp = true;
        }
        (up ? builder.up() : builder.outOfService()).withDetails(details);
    }
}
