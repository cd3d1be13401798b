package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.util.unit.DataSize;

/** A decision log that callers could fill past a quarter of the heap is started with a warning that says so. */
class DecisionLogSizeTest {
    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(OperatorConfiguration.class, Level.WARN);

    private static PolicyGatewayProperties withCapacity(int capacity) {
        return new PolicyGatewayProperties("example.com", new PolicyGatewayProperties.Auth(null, null),
                new PolicyGatewayProperties.Admin(null, null), new PolicyGatewayProperties.DecisionLog(capacity),
                new PolicyGatewayProperties.Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)), DataSize.ofMegabytes(1),
                List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
    }

    @Test
    void aCapacityThatCouldFillAQuarterOfTheHeapIsWarnedOfNamingTheMostThatFits() {
        long fits = Runtime.getRuntime().maxMemory() / 4 / OperatorConfiguration.LARGEST_DECISION_BYTES;

        new OperatorConfiguration().decisionLog(withCapacity(2000));
        assertThat(lines.at(Level.WARN)).as("the default").isEmpty();

        assumeTrue(fits < PolicyGatewayProperties.DecisionLog.MAX_CAPACITY, "a heap a million decisions cannot fill");
        new OperatorConfiguration().decisionLog(withCapacity((int) fits + 1));
        assertThat(lines.at(Level.WARN)).singleElement().asString()
                .contains("policy-gateway.decision-log.capacity " + (fits + 1)).contains("Lower the capacity to at most " + fits);
    }
}
