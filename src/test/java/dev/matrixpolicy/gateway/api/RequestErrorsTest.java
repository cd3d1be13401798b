package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class RequestErrorsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    /**
     * The alerts of docs/operations.md fire on {@code rate(policy_requests_errors_total{status=~"5.."}[5m]) > 0}
     * and on the 401s. A series born at its first error starts at that count, and rate() and increase()
     * see no rise in it: the first outage after each start, a fail-closed module's 503s within one scrape
     * interval, paged nobody.
     */
    @Test
    void theErrorsTheAlertsWatchAreSeriesAtZeroBeforeTheFirstOne() {
        new RequestErrors(registry);

        for (String[] watched : new String[][] {{"401", RequestErrors.PLAIN_TEXT}, {"503", "M_UNKNOWN"},
                {"503", "M_LIMIT_EXCEEDED"}, {"500", "M_UNKNOWN"}}) {
            Counter counter = registry.find(RequestErrors.NAME).tag("status", watched[0]).tag("errcode", watched[1]).counter();
            assertThat(counter).as("%s %s", watched[0], watched[1]).isNotNull();
            assertThat(counter.count()).isZero();
        }
    }

    @Test
    void anErrorCountsOnItsSeries() {
        RequestErrors errors = new RequestErrors(registry);

        errors.count(503, "M_UNKNOWN");
        errors.count(400, "M_NOT_JSON");

        assertThat(registry.get(RequestErrors.NAME).tag("status", "503").tag("errcode", "M_UNKNOWN").counter().count()).isOne();
        assertThat(registry.get(RequestErrors.NAME).tag("status", "400").tag("errcode", "M_NOT_JSON").counter().count()).isOne();
    }
}
