package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class UsersForStatesTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String ALICE = "@alice:example.com";
    private static final String BOB = "@bob:example.com";

    private static JsonNode state(String user, String presence) {
        return JSON.createObjectNode().put("user_id", user).put("state", presence);
    }

    @Test
    void mergingAnswersThatNameOneUserKeepsEachStateOnceByContentInTheOrderFirstGiven() {
        JsonNode carolOnline = state("@carol:example.com", "online");
        JsonNode daveOffline = state("@dave:example.com", "offline");
        UsersForStates first = new UsersForStates(Map.of(ALICE, Set.of(carolOnline)));
        UsersForStates second = new UsersForStates(Map.of(ALICE, new PresenceStates(List.of(state("@carol:example.com", "online"), daveOffline)),
                BOB, Set.of(daveOffline)));

        UsersForStates merged = first.merge(second);

        assertThat(merged.routes().keySet()).containsExactly(ALICE, BOB);
        assertThat(merged.routes().get(ALICE)).containsExactly(carolOnline, daveOffline);
        assertThat(merged.routes().get(BOB)).containsExactly(daveOffline);
        assertThat(first.routes().get(ALICE)).containsExactly(carolOnline); // the answers merged are left as they were
    }

    @Test
    void mergingTwoAnswersThatShareTheirSetsAmongUsersConcatenatesEachPairOfSetsOnce() {
        PresenceStates first = new PresenceStates(List.of(state("@carol:example.com", "online")));
        PresenceStates second = new PresenceStates(List.of(state("@carol:example.com", "online"), state("@dave:example.com", "online")));
        Map<String, Set<JsonNode>> firstRoutes = new LinkedHashMap<>();
        Map<String, Set<JsonNode>> secondRoutes = new LinkedHashMap<>();
        List.of(ALICE, BOB).forEach(user -> {
            firstRoutes.put(user, first);
            secondRoutes.put(user, second);
        });

        UsersForStates merged = new UsersForStates(firstRoutes).merge(new UsersForStates(secondRoutes));

        assertThat(merged.routes().get(ALICE)).isSameAs(merged.routes().get(BOB)).hasSize(2);
    }

    @Test
    void mergingWithAnAnswerOfNoRoutesIsTheOtherAnswer() {
        UsersForStates answer = new UsersForStates(Map.of(ALICE, Set.of()));

        assertThat(UsersForStates.NONE.merge(answer)).isSameAs(answer);
        assertThat(answer.merge(UsersForStates.NONE)).isSameAs(answer);
    }

    @Test
    void aSetGivenForSeveralUsersIsHeldOnceReadOnlyAndWrittenOnceInTheCompactForm() {
        PresenceStates everyone = new PresenceStates(List.of(state("@carol:example.com", "online")));
        Map<String, Set<JsonNode>> routes = new LinkedHashMap<>();
        routes.put(ALICE, everyone);
        routes.put(BOB, everyone);

        UsersForStates answer = new UsersForStates(routes);
        everyone.add(state("@dave:example.com", "online"));

        assertThat(answer.routes().get(ALICE)).isSameAs(answer.routes().get(BOB)).hasSize(1);
        assertThatThrownBy(() -> answer.routes().get(ALICE).add(state("@erin:example.com", "online")))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(answer.compact().get("sets")).hasSize(1);
        assertThat(answer.compact().get("users").get(BOB).intValue()).isZero();
    }
}
