package dev.matrixpolicy.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

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
        assertThat(CarrierThreads.defaultCount("32767", 2)).isEmpty();
    }

    /**
     * The JDK fails on such a count at the first virtual thread, with an error that names neither the
     * setting nor its value ({@code ExceptionInInitializerError}, caused by an {@code IllegalArgumentException}
     * without a message for 0): the startup stops on ours instead.
     */
    @Test
    void anOperatorsCountTheJdkRefusesStopsStartupNamingTheSettingTheValueAndTheFix() {
        for (String refused : new String[] {"", "0", "-4", "two", "32768", "4 "}) {
            assertThatIllegalArgumentException().isThrownBy(() -> CarrierThreads.defaultCount(refused, 2))
                    .withMessage("-Djdk.virtualThreadScheduler.parallelism=" + refused + " is not a count of carrier threads:"
                            + " set a whole number from 1 to 32767, or remove it for 2 per processor");
        }
    }
}
