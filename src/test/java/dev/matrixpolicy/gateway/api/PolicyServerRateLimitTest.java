package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.state.Bucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;

/** The policy server's rate limit on its own, on a ticker the test steps. */
class PolicyServerRateLimitTest {
    private final AtomicLong now = new AtomicLong();
    private final AtomicReference<Bucket> shape = new AtomicReference<>(new Bucket(2, Duration.ofMinutes(1)));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PolicyServerRateLimit limit = new PolicyServerRateLimit(shape::get, now::get, registry);

    private double originsLimited() {
        return registry.get(PolicyServerRateLimit.METRIC).counter().count();
    }

    @Test
    void eachHomeserverHasABucketOfItsOwn() {
        limit.take("a.example");
        limit.take("a.example");

        assertThatThrownBy(() -> limit.take("a.example")).isInstanceOf(MatrixApiException.class)
                .extracting(refused -> ((MatrixApiException) refused).retryAfter()).asInstanceOf(InstanceOfAssertFactories.OPTIONAL)
                .contains(Duration.ofSeconds(30));
        limit.take("b.example");
    }

    @Test
    void aRefusedHomeserverIsCountedOnceAPeriodHoweverOftenItAsks() {
        limit.take("a.example");
        limit.take("a.example");
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> limit.take("a.example")).isInstanceOf(MatrixApiException.class);
        }
        assertThat(originsLimited()).isEqualTo(1);

        now.addAndGet(Duration.ofMinutes(1).toNanos());
        limit.take("a.example");
        limit.take("a.example");
        assertThatThrownBy(() -> limit.take("a.example")).isInstanceOf(MatrixApiException.class);

        assertThat(originsLimited()).isEqualTo(2);
    }

    /** A reload changes the shape: the next request takes from the new one. */
    @Test
    void theBucketsShapeIsReadAtEachRequest() {
        shape.set(new Bucket(5, Duration.ofMinutes(1)));

        for (int i = 0; i < 5; i++) {
            limit.take("a.example");
        }
        assertThatThrownBy(() -> limit.take("a.example")).isInstanceOf(MatrixApiException.class)
                .extracting(refused -> ((MatrixApiException) refused).retryAfter()).asInstanceOf(InstanceOfAssertFactories.OPTIONAL)
                .contains(Duration.ofSeconds(12));
    }
}
