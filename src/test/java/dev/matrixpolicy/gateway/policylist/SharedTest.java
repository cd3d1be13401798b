package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Repeated reasons, senders and source names are held once, within bounds. */
class SharedTest {
    @Test
    void parsedRulesWithEqualReasonsSendersAndSourcesShareOneCopyOfEach() {
        String event = "{\"type\": \"m.policy.rule.user\", \"state_key\": \"%s\", \"event_id\": \"$%s\","
                + " \"sender\": \"@mod:example.org\", \"content\": {\"entity\": \"%s\", \"recommendation\": \"m.ban\","
                + " \"reason\": \"crypto spam\"}}";
        List<PolicyRule> rules = List.copyOf(RuleText.parse("[" + event.formatted("a", "a", "@a:example.org") + ", "
                + event.formatted("b", "b", "@b:example.org") + "]", new String("community")).rules());
        List<PolicyRule> lines = List.copyOf(RuleText.parse("ban user @a:example.org crypto spam\nban user @b:example.org crypto spam",
                new String("community")).rules());

        PolicyRule first = rules.get(0);
        for (PolicyRule second : List.of(rules.get(1), lines.get(0), lines.get(1))) {
            assertThat(second.reason()).isSameAs(first.reason());
            assertThat(second.origin().source()).isSameAs(first.origin().source());
        }
        assertThat(rules.get(1).origin().sender()).isSameAs(first.origin().sender());
        assertThat(rules.get(1).origin().sender().get()).isSameAs(first.origin().sender().get());
    }

    @Test
    void textsUpToTheLengthLimitAreSharedAndLongerOnesKeptAsGiven() {
        Shared shared = new Shared(10, 8);
        String atLimit = "12345678";
        String longer = "123456789";
        shared.text(atLimit);
        shared.text(longer);

        assertThat(shared.text(new String(atLimit))).isSameAs(atLimit);
        assertThat(shared.text(new String(longer))).isNotSameAs(longer).isEqualTo(longer);
        assertThat(shared.size()).isEqualTo(1);
    }

    @Test
    void theTableStaysBoundedHoweverManyDistinctTextsItSees() {
        Shared shared = new Shared(100, 512);
        for (int i = 0; i < 1000; i++) {
            String text = "reason " + i;
            assertThat(shared.text(text)).isSameAs(text);
            assertThat(shared.text(new String(text))).isSameAs(text);
            assertThat(shared.size()).isLessThanOrEqualTo(100);
        }
    }
}
