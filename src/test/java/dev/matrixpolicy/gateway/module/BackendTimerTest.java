package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The one backend timer every module that calls a backend registers: its name, tags and description. */
class BackendTimerTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void everyOutcomeIsASeriesFromTheStartUnderOneNameAndDescription() {
        new BackendTimer("checker", registry);

        assertThat(registry.get("policy.module.backend").tag("module", "checker").timers())
                .extracting(timer -> timer.getId().getTag("outcome"))
                .containsExactlyInAnyOrder("success", "error", "timeout");
        assertThat(registry.get("policy.module.backend").timers())
                .allSatisfy(timer -> {
                    assertThat(timer.count()).isZero();
                    assertThat(timer.getId().getDescription()).isEqualTo("Calls from a module to its backend");
                });
    }

    @Test
    void aCallIsRecordedUnderItsOutcomeOnly() {
        BackendTimer backend = new BackendTimer("censor", registry);

        backend.record(Outcome.TIMEOUT, Duration.ofMillis(250).toNanos());

        Timer timedOut = registry.get("policy.module.backend").tag("module", "censor").tag("outcome", "timeout").timer();
        assertThat(timedOut.count()).isEqualTo(1);
        assertThat(timedOut.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(250);
        assertThat(registry.get("policy.module.backend").tag("outcome", "success").timer().count()).isZero();
        assertThat(registry.get("policy.module.backend").tag("outcome", "error").timer().count()).isZero();
    }

    @Test
    void eachModuleInstanceHasItsOwnSeries() {
        new BackendTimer("open", registry).record(Outcome.SUCCESS, 1);
        new BackendTimer("closed", registry);

        assertThat(registry.get("policy.module.backend").tag("module", "open").tag("outcome", "success").timer().count()).isEqualTo(1);
        assertThat(registry.get("policy.module.backend").tag("module", "closed").tag("outcome", "success").timer().count()).isZero();
    }

    @Test
    void aFailedCallIsATimeoutOrAnError() {
        assertThat(Outcome.failure(true)).isEqualTo(Outcome.TIMEOUT);
        assertThat(Outcome.failure(false)).isEqualTo(Outcome.ERROR);
        assertThat(Outcome.TIMEOUT.tag()).isEqualTo("timeout");
    }
}
