package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The rule event types, as a sync filter asks for them and as events are read. */
class EntityKindTest {

    @Test
    void everyRuleEventTypeOfEveryPrefixIsListedOnceAndReadsBackAsItsKind() {
        assertThat(EntityKind.eventTypes()).hasSize(9).doesNotHaveDuplicates()
                .contains("m.policy.rule.user", "m.room.rule.room", "org.matrix.mjolnir.rule.server")
                .allSatisfy(type -> assertThat(EntityKind.ofEventType(type)).isPresent()
                        .hasValueSatisfying(kind -> assertThat(type).endsWith("." + kind.wireName())));
    }
}
