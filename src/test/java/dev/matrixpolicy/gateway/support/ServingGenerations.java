package dev.matrixpolicy.gateway.support;

import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.config.Generation;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.util.unit.DataSize;

/** Generations of module instances, as a start or a reload would serve them, for tests of what reads the serving one. */
public final class ServingGenerations {
    private ServingGenerations() {
    }

    /** Generation {@code number} of {@code modules}, on example.com, with the defaults and no tokens. */
    public static Generation of(long number, ModuleInstance... modules) {
        PolicyGatewayProperties properties = new PolicyGatewayProperties("example.com", new PolicyGatewayProperties.Auth(null, null),
                new PolicyGatewayProperties.Admin(null, null), new PolicyGatewayProperties.DecisionLog(100),
                new PolicyGatewayProperties.Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)), DataSize.ofMegabytes(1),
                List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
        return new Generation(number, properties, List.of(modules),
                new CallbackChains(List.of(modules), new ChainRunner(ChainObserver.NONE)), Optional.empty(), Optional.empty(),
                Instant.EPOCH);
    }
}
