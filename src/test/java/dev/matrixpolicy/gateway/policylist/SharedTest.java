package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Repeated reasons, senders and source names are held once, within bounds. */
class SharedTest {
    @Test
    void rulesWithEqualReasonsSendersAndSourcesShareOneCopyOfEach() {
        PolicyRule first = rule(new String("crypto spam"), Optional.of(new String("@mod:example.org")));
        PolicyRule second = rule(new String("crypto spam"), Optional.of(new String("@mod:example.org")));

        assertThat(second.reason()).isSameAs(first.reason());
        assertThat(second.origin().sender()).isSameAs(first.origin().sender());
        assertThat(second.origin().sender().get()).isSameAs(first.origin().sender().get());
        assertThat(second.origin().source()).isSameAs(first.origin().source());
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

    private static PolicyRule rule(String reason, Optional<String> sender) {
        return new PolicyRule(EntityKind.USER, Entity.of("@spammer:example.org"), Recommendation.BAN, reason,
                new PolicyRule.Origin(new String("community"), Optional.of("$event"), sender, 0));
    }
}
