package dev.matrixpolicy.gateway.modules.presencerouter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.Outcomes;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetInterestedUsers;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetUsersForStates;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.modules.presencerouter.PresenceRouterConfig.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The routing rules, and that both callbacks always agree. */
class PresenceRouterTest {
    private static final String ALICE = "@alice:example.com";
    private static final String BOB = "@bob:example.com";
    private static final String CHARLIE = "@charlie:somewhere.org";
    private static final String DAVE = "@dave:example.com";
    private static final String AUDITOR = "@auditor:example.com";

    @Test
    void docsExampleForwardsBobAndCharlieToAliceAndNothingElse() {
        PresenceRouter router = router(new Route(List.of(ALICE), List.of(BOB, CHARLIE)));
        ObjectNode bob = presence(BOB, "online");
        ObjectNode charlie = presence(CHARLIE, "unavailable");

        assertThat(router.getUsersForStates(updates(bob, charlie, presence(DAVE, "online"), presence(ALICE, "online"))).routes())
                .isEqualTo(Map.of(ALICE, Set.of(bob, charlie)));
        assertThat(router.getUsersForStates(updates(presence(DAVE, "offline"))).routes()).isEmpty();
        assertThat(interested(router, ALICE)).isEqualTo(new InterestedUsers.Users(Set.of(BOB, CHARLIE)));
        assertThat(interested(router, BOB)).isEqualTo(InterestedUsers.NONE);
        assertThat(interested(router, DAVE)).isEqualTo(InterestedUsers.NONE);
    }

    @Test
    void receiverOfAnAllRouteGetsEveryUpdateAndIsInterestedInAllUsers() {
        PresenceRouter router = router(new Route(List.of(AUDITOR), List.of(PresenceRouterConfig.ALL)));
        ObjectNode bob = presence(BOB, "online");
        ObjectNode stranger = presence("@stranger:elsewhere.net", "offline");

        assertThat(router.getUsersForStates(updates(bob, stranger)).routes()).isEqualTo(Map.of(AUDITOR, Set.of(bob, stranger)));
        assertThat(interested(router, AUDITOR)).isSameAs(InterestedUsers.ALL_USERS);
        assertThat(interested(router, BOB)).isEqualTo(InterestedUsers.NONE);
    }

    @Test
    void receiverOfBothAnAllRouteAndListedSourcesIsInterestedInAllUsersAndGetsEachUpdateOnce() {
        PresenceRouter router = router(new Route(List.of(AUDITOR), List.of(BOB)),
                new Route(List.of(AUDITOR, ALICE), List.of(PresenceRouterConfig.ALL)));
        ObjectNode bob = presence(BOB, "online");

        assertThat(router.getUsersForStates(updates(bob)).routes()).isEqualTo(Map.of(AUDITOR, Set.of(bob), ALICE, Set.of(bob)));
        assertThat(interested(router, AUDITOR)).isSameAs(InterestedUsers.ALL_USERS);
        assertThat(interested(router, ALICE)).isSameAs(InterestedUsers.ALL_USERS);
    }

    @Test
    void userWhoIsBothReceiverAndSourceGetsHerSourcesAndIsForwardedToHerReceivers() {
        // Charlie receives Alice, Alice receives Bob.
        PresenceRouter router = router(new Route(List.of(CHARLIE), List.of(ALICE)), new Route(List.of(ALICE), List.of(BOB)));
        ObjectNode alice = presence(ALICE, "online");
        ObjectNode bob = presence(BOB, "unavailable");

        assertThat(router.getUsersForStates(updates(alice, bob)).routes()).isEqualTo(Map.of(CHARLIE, Set.of(alice), ALICE, Set.of(bob)));
        assertThat(interested(router, ALICE)).isEqualTo(new InterestedUsers.Users(Set.of(BOB)));
        assertThat(interested(router, CHARLIE)).isEqualTo(new InterestedUsers.Users(Set.of(ALICE)));
        assertThat(interested(router, BOB)).isEqualTo(InterestedUsers.NONE);
    }

    @Test
    void groupThatSeesItselfForwardsEachMemberToEveryMemberIncludingThemselves() {
        PresenceRouter router = router(new Route(List.of(ALICE, BOB, CHARLIE), List.of(ALICE, BOB, CHARLIE)));
        ObjectNode alice = presence(ALICE, "online");

        assertThat(router.getUsersForStates(updates(alice)).routes())
                .isEqualTo(Map.of(ALICE, Set.of(alice), BOB, Set.of(alice), CHARLIE, Set.of(alice)));
        assertThat(interested(router, BOB)).isEqualTo(new InterestedUsers.Users(Set.of(ALICE, BOB, CHARLIE)));
    }

    @Test
    void routesToTheSameReceiverAddUp() {
        PresenceRouter router = router(new Route(List.of(ALICE), List.of(BOB)), new Route(List.of(ALICE, DAVE), List.of(CHARLIE)));

        assertThat(interested(router, ALICE)).isEqualTo(new InterestedUsers.Users(Set.of(BOB, CHARLIE)));
        assertThat(interested(router, DAVE)).isEqualTo(new InterestedUsers.Users(Set.of(CHARLIE)));
    }

    @Test
    void noUpdatesForwardNothing() {
        assertThat(router(new Route(List.of(ALICE), List.of(BOB))).getUsersForStates(updates())).isEqualTo(UsersForStates.NONE);
    }

    /**
     * Synapse reads the sync of a user interested in all users as {@code get_users_for_states(everyone
     * online)[user]}: when nobody is online, a receiver of ALL missing from the answer is a KeyError,
     * and a 500 for that user's /sync.
     */
    @Test
    void receiverOfAnAllRouteIsInTheAnswerWithoutUpdatesTooAsSynapseLooksItUpByKey() {
        PresenceRouter router = router(new Route(List.of(ALICE), List.of(BOB)),
                new Route(List.of(AUDITOR), List.of(PresenceRouterConfig.ALL)));

        UsersForStates answer = router.getUsersForStates(updates());

        assertThat(answer.routes()).isEqualTo(Map.of(AUDITOR, Set.of()));
        assertThat(ResultTypes.USERS_FOR_STATES.outcome(answer)).as("it forwards nothing").isEqualTo(Outcomes.NONE);
    }

    @Test
    void routerNeverBlocks() {
        assertThat(router(new Route(List.of(ALICE), List.of(BOB))).mayBlock()).isFalse();
    }

    static Stream<List<Route>> configurations() {
        Random random = new Random(20240424);
        List<String> pool = List.of(ALICE, BOB, CHARLIE, DAVE, AUDITOR, "@erin:somewhere.org", "@frank:example.com");
        Stream<List<Route>> handWritten = Stream.of(
                List.of(new Route(List.of(ALICE), List.of(BOB, CHARLIE))),
                List.of(new Route(List.of(AUDITOR), List.of(PresenceRouterConfig.ALL))),
                List.of(new Route(List.of(CHARLIE), List.of(ALICE)), new Route(List.of(ALICE), List.of(BOB))),
                List.of(new Route(List.of(ALICE, BOB), List.of(ALICE, BOB)), new Route(List.of(BOB), List.of(PresenceRouterConfig.ALL))));
        Stream<List<Route>> generated = IntStream.range(0, 40).mapToObj(i -> IntStream.range(0, 1 + random.nextInt(4))
                .mapToObj(r -> new Route(pick(random, pool), random.nextInt(5) == 0 ? List.of(PresenceRouterConfig.ALL) : pick(random, pool)))
                .toList());
        return Stream.concat(handWritten, generated);
    }

    /**
     * Synapse's requirement: the two callbacks are complementary. For every pair of users, an update
     * from S is forwarded to R exactly when get_interested_users(R) is ALL or contains S.
     */
    @ParameterizedTest
    @MethodSource("configurations")
    void getUsersForStatesForwardsExactlyWhatGetInterestedUsersAnnounces(List<Route> routes) {
        PresenceRouter router = router(routes.toArray(Route[]::new));
        List<String> everyone = List.of(ALICE, BOB, CHARLIE, DAVE, AUDITOR, "@erin:somewhere.org", "@frank:example.com",
                "@nobody:elsewhere.net");
        Map<String, Set<JsonNode>> forwarded = router.getUsersForStates(
                updates(everyone.stream().map(user -> presence(user, "online")).toArray(ObjectNode[]::new))).routes();

        for (String receiver : everyone) {
            Set<String> received = forwarded.getOrDefault(receiver, Set.of()).stream()
                    .map(state -> state.get("user_id").stringValue()).collect(Collectors.toSet());
            Set<String> announced = switch (interested(router, receiver)) {
                case InterestedUsers.AllUsers all -> Set.copyOf(everyone);
                case InterestedUsers.Users some -> some.userIds();
            };
            assertThat(received).as("%s in %s", receiver, routes).isEqualTo(announced);
        }
        assertThat(forwarded.keySet()).as("only known receivers get anything").isSubsetOf(everyone);
    }

    private static List<String> pick(Random random, List<String> pool) {
        Set<String> picked = new LinkedHashSet<>();
        int count = 1 + random.nextInt(3);
        while (picked.size() < count) {
            picked.add(pool.get(random.nextInt(pool.size())));
        }
        return new ArrayList<>(picked);
    }

    private static PresenceRouter router(Route... routes) {
        return (PresenceRouter) new PresenceRouterModuleType().create(new PresenceRouterConfig(List.of(routes)),
                new ModuleContext("router", "example.com", new SimpleMeterRegistry()));
    }

    private static InterestedUsers interested(PresenceRouter router, String user) {
        return router.getInterestedUsers(new GetInterestedUsers.Args(user));
    }

    private static ObjectNode presence(String user, String state) {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("user_id", user);
        json.put("state", state);
        json.put("last_active_ts", 1_700_000_000_000L);
        return json;
    }

    private static GetUsersForStates.Args updates(ObjectNode... states) {
        return new GetUsersForStates.Args(List.of(states));
    }
}
