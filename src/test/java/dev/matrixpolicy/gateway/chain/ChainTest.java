package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_CLOSED;
import static dev.matrixpolicy.gateway.chain.FailurePolicy.FAIL_OPEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNoException;

import dev.matrixpolicy.gateway.chain.Links.TestCallback;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The construction rules of {@link Chain} and {@link Link}. */
class ChainTest {

    private static final TestCallback MODULE = args -> "answer";

    @Test
    void chainRejectsAModuleNameUsedTwice() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Links.chain(
                        Links.link("a", MODULE, FAIL_OPEN),
                        Links.link("b", MODULE, FAIL_OPEN),
                        Links.link("a", MODULE, FAIL_CLOSED)))
                .withMessageContaining("twice");
    }

    @Test
    void chainKeepsItsModulesInConfigurationOrder() {
        Chain<TestCallback> chain = Links.chain(Links.link("b", MODULE, FAIL_OPEN), Links.link("a", MODULE, FAIL_OPEN));

        assertThat(chain.modules()).containsExactly("b", "a");
        assertThat(chain.isEmpty()).isFalse();
    }

    @Test
    void chainDoesNotChangeWhenTheListItWasBuiltFromChanges() {
        List<Link<TestCallback>> links = new ArrayList<>(List.of(Links.link("a", MODULE, FAIL_OPEN)));
        Chain<TestCallback> chain = new Chain<>(Links.CALLBACK, links);

        links.add(Links.link("b", MODULE, FAIL_OPEN));

        assertThat(chain.modules()).containsExactly("a");
    }

    @Test
    void emptyChainHasNoModules() {
        Chain<TestCallback> chain = Chain.empty(Links.CALLBACK);

        assertThat(chain.isEmpty()).isTrue();
        assertThat(chain.modules()).isEmpty();
        assertThat(chain.callback()).isEqualTo(Links.CALLBACK);
    }

    @Test
    void linkRejectsAZeroTimeout() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Links.link("a", MODULE, FAIL_OPEN, Duration.ZERO))
                .withMessageContaining("a");
    }

    @Test
    void linkRejectsANegativeTimeout() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Links.link("a", MODULE, FAIL_OPEN, Duration.ofMillis(-1)));
    }

    @Test
    void linkAcceptsAPositiveTimeoutOrNone() {
        assertThatNoException().isThrownBy(() -> Links.link("a", MODULE, FAIL_OPEN, Duration.ofNanos(1)));
        assertThatNoException().isThrownBy(() -> Links.link("a", MODULE, FAIL_OPEN));
    }
}
