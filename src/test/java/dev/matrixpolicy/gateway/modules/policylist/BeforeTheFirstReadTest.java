package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the callbacks answer while a policy room has not been read yet: the source holds no rule, so it refuses no one. */
class BeforeTheFirstReadTest {
    private static final String SPAMMER = "@spammer:evil.example";

    @Test
    void aSourceThatHasNotReadYetRefusesNoOneUntilItsFirstRulesArrive() {
        ChangedRulesTest.Scripted room = new ChangedRulesTest.Scripted();
        PolicyList list = OneSourceList.of("community", "room", "#bans:example.com", EnumSet.allOf(EntityKind.class), room);
        try {
            list.start();
            assertThat(mayJoin(list)).as("before the first read").isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(list.sources()).filteredOn(source -> source.name().equals("community")).singleElement()
                    .satisfies(source -> assertThat(source.status().lastSuccess()).isEmpty());

            room.listener.updated(room, List.of(new PolicyRule(EntityKind.USER, Entity.of(SPAMMER), Recommendation.BAN, "spam",
                    new PolicyRule.Origin("community", Optional.of("$ban"), Optional.empty(), 0))), Map.of());

            await().atMost(Duration.ofSeconds(10)).until(() -> mayJoin(list) != SpamVerdict.NOT_SPAM);
        } finally {
            list.close();
        }
    }

    private static SpamVerdict mayJoin(PolicyList list) {
        return list.userMayJoinRoom(new UserMayJoinRoom.Args(SPAMMER, "!room:example.com", false));
    }
}
