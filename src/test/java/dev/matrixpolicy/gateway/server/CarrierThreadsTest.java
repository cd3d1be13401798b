package dev.matrixpolicy.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Two carriers per processor by default; an operator's own count is left as it is. */
class CarrierThreadsTest {

    @Test
    void twoCarriersPerProcessorWhenTheOperatorChoseNone() {
        assertThat(CarrierThreads.defaultCount(null, 1)).hasValue(2);
        assertThat(CarrierThreads.defaultCount(null, 3)).hasValue(6);
    }

    @Test
    void theOperatorsCountIsKept() {
        assertThat(CarrierThreads.defaultCount("3", 2)).isEmpty();
        assertThat(CarrierThreads.defaultCount("", 2)).isEmpty();
    }
}
