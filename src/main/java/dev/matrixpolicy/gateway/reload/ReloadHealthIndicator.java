package dev.matrixpolicy.gateway.reload;

import dev.matrixpolicy.gateway.config.Generations;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * {@code configReload} in {@code /actuator/health}: the serving generation and the last reload. A
 * refused configuration leaves the gateway serving the previous one, so the status stays UP; the
 * details say {@code failed} and why, until a reload succeeds.
 */
final class ReloadHealthIndicator extends AbstractHealthIndicator {
    private final Reloader reloader;
    private final Generations generations;

    ReloadHealthIndicator(Reloader reloader, Generations generations) {
        super("Configuration reload health check failed");
        this.reloader = reloader;
        this.generations = generations;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.up().withDetails(ReloadEndpoint.status(reloader, generations));
    }
}
