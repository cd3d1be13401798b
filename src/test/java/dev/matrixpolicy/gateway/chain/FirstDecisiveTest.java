package dev.matrixpolicy.gateway.chain;

import static dev.matrixpolicy.gateway.chain.Links.answering;
import static dev.matrixpolicy.gateway.chain.Links.failedClosed;
import static dev.matrixpolicy.gateway.chain.Links.failedOpen;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A spam check: {@code NOT_SPAM} falls through, anything else decides. */
class FirstDecisiveTest {

    private static final String NOT_SPAM = "NOT_SPAM";

    private final FirstDecisive<String, String> rule = new FirstDecisive<>(NOT_SPAM::equals, NOT_SPAM);
    private final Links.Calls calls = new Links.Calls();

    private Decision<String> evaluate(List<Asker<String, String>> links) {
        return rule.evaluate(links, "event");
    }

    @Test
    void emptyChainGivesTheDefaultDecidedByNoModule() {
        Decision<String> decision = evaluate(List.of());

        assertThat(decision.result()).isEqualTo(NOT_SPAM);
        assertThat(decision.decidedBy()).isEmpty();
    }

    @Test
    void singleDecisiveModuleDecides() {
        Decision<String> decision = evaluate(List.of(answering("a", calls, "SPAM")));

        assertThat(decision.result()).isEqualTo("SPAM");
        assertThat(decision.decidedBy()).contains("a");
    }

    @Test
    void singleModuleThatFallsThroughGivesTheDefault() {
        Decision<String> decision = evaluate(List.of(answering("a", calls, NOT_SPAM)));

        assertThat(decision.result()).isEqualTo(NOT_SPAM);
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.modules()).containsExactly("a");
    }

    @Test
    void whenEveryModuleFallsThroughEveryModuleIsAskedInOrderAndTheDefaultIsUsed() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, NOT_SPAM),
                answering("b", calls, NOT_SPAM),
                answering("c", calls, NOT_SPAM)));

        assertThat(decision.result()).isEqualTo(NOT_SPAM);
        assertThat(decision.decidedBy()).isEmpty();
        assertThat(calls.modules()).containsExactly("a", "b", "c");
    }

    @Test
    void firstModuleThatDoesNotFallThroughDecidesAndLaterModulesAreNotCalled() {
        Decision<String> decision = evaluate(List.of(
                answering("a", calls, NOT_SPAM),
                answering("b", calls, "SPAM"),
                answering("c", calls, "RATE_LIMITED")));

        assertThat(decision.result()).isEqualTo("SPAM");
        assertThat(decision.decidedBy()).contains("b");
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void everyAskedModuleSeesTheOriginalArgs() {
        evaluate(List.of(answering("a", calls, NOT_SPAM), answering("b", calls, NOT_SPAM)));

        assertThat(calls.args()).containsExactly("event", "event");
    }

    @Test
    void moduleThatFailedOpenIsSkippedAndTheNextModuleDecides() {
        Decision<String> decision = evaluate(List.of(
                failedOpen("a", calls),
                answering("b", calls, "SPAM")));

        assertThat(decision.result()).isEqualTo("SPAM");
        assertThat(decision.decidedBy()).contains("b");
        assertThat(calls.modules()).containsExactly("a", "b");
    }

    @Test
    void anAnswerDecidesExactlyWhenItDoesNotFallThrough() {
        assertThat(rule.decides("SPAM")).isTrue();
        assertThat(rule.decides(NOT_SPAM)).isFalse();
    }

    @Test
    void moduleThatFailedClosedStopsTheWalkAndItsFailurePropagates() {
        assertThatThrownBy(() -> evaluate(List.of(
                answering("a", calls, NOT_SPAM),
                failedClosed("b", calls),
                answering("c", calls, "SPAM"))))
                .isInstanceOf(ModuleFailedException.class)
                .extracting(failure -> ((ModuleFailedException) failure).module())
                .isEqualTo("b");

        assertThat(calls.modules()).containsExactly("a", "b");
    }
}
