package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The chain's series, as a reload that removes a module and a later one that adds it back leave them. */
class MetricsChainObserverTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MetricsChainObserver observer = new MetricsChainObserver(registry);

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("Module bans failed on user_may_invite");

    @Test
    void aSeriesRemovedFromTheRegistryIsRegisteredAfreshWhenItsModuleCountsAgain() {
        observer.linkCompleted("user_may_invite", "bans", 1_000, LinkOutcome.FAILED, new IllegalStateException("down"));
        Counter before = registry.find(MetricsChainObserver.MODULE_FAILURES).tag("module", "bans").counter();
        registry.remove(before);
        registry.remove(registry.find(MetricsChainObserver.MODULE).tag("module", "bans").timer());

        observer.linkCompleted("user_may_invite", "bans", 1_000, LinkOutcome.FAILED, new IllegalStateException("down"));

        Counter after = registry.find(MetricsChainObserver.MODULE_FAILURES).tag("module", "bans").counter();
        assertThat(after).isNotNull().isNotSameAs(before);
        assertThat(after.count()).isEqualTo(1.0);
        assertThat(registry.find(MetricsChainObserver.MODULE).tag("module", "bans").timer().count()).isEqualTo(1);
    }
}
