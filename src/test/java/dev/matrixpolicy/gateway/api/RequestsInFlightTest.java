package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How many policy API requests may be in flight, and what a request past them is answered. */
class RequestsInFlightTest {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("503 M_LIMIT_EXCEEDED");
    @RegisterExtension
    final LoggedLines log = LoggedLines.of(RequestsInFlight.class, Level.DEBUG);

    /** What the image's JVM reports as its maximum heap in its default 512 MiB container. */
    private static final long IMAGE_HEAP = (long) (301.6 * 1024 * 1024);

    /**
     * A quarter of the image's heap holds 603 requests at 128 KiB each: six Synapse processes' worth at
     * our module's default {@code max_connections}, and the 500 realistic events the bodies' share
     * promises to hold at once (measured: 1,000 in flight held 165 MiB, 6,000 ran the heap out).
     */
    @Test
    void aQuarterOfTheImagesHeapHoldsSixHundredRequestsInFlight() {
        assertThat(RequestsInFlight.heldIn(IMAGE_HEAP)).isEqualTo(603);
        assertThat(RequestsInFlight.heldIn(4 * IMAGE_HEAP)).as("a larger heap, more").isEqualTo(2_412);
        assertThat(RequestsInFlight.heldIn(16L * 1024 * 1024)).as("never fewer than a homeserver's ordinary concurrency")
                .isEqualTo(RequestsInFlight.AT_LEAST);
    }

    @Test
    void aRequestPastTheBoundIsRefusedAndTakesNoPlaceUntilOneIsGivenBack() {
        RequestsInFlight inFlight = new RequestsInFlight(2);

        assertThat(inFlight.enter()).isTrue();
        assertThat(inFlight.enter()).isTrue();
        assertThat(inFlight.enter()).as("past the bound").isFalse();
        assertThat(inFlight.inFlight()).as("the refused request takes no place").isEqualTo(2);
        assertThat(inFlight.refused()).isEqualTo(1);

        inFlight.leave();
        assertThat(inFlight.enter()).as("a place given back is taken again").isTrue();
        assertThat(inFlight.inFlight()).isEqualTo(2);
    }

    @Test
    void aRefusalIs503LimitExceededWithOneWarnLineAWhile() {
        RequestsInFlight inFlight = new RequestsInFlight(1);

        MatrixApiException refused = inFlight.refusal();
        inFlight.refusal();

        assertThat(refused.status().value()).isEqualTo(503);
        assertThat(refused.errcode()).as("what our Synapse module answers by the callback's on_failure").isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(log.at(Level.WARN)).singleElement().asString()
                .startsWith("Policy API request refused, 503 M_LIMIT_EXCEEDED: 1 requests").contains("on_failure");
        assertThat(log.at(Level.DEBUG)).hasSize(1);
    }
}
