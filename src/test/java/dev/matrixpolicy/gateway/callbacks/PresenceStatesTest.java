package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.matrix.EventJson;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class PresenceStatesTest {
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    @Test
    void keepsEachStateOnceByContentInTheOrderFirstGiven() {
        JsonNode alice = JSON.readTree("{\"user_id\": \"@alice:example.com\", \"state\": \"online\", \"ago\": 1.5}");
        JsonNode aliceAgain = JSON.readTree("{\"ago\": 1.5, \"state\": \"online\", \"user_id\": \"@alice:example.com\"}");
        JsonNode bob = JSON.readTree("{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"ago\": [1, {\"a\": null}]}");
        JsonNode bobAgain = JSON.readTree("{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"ago\": [1, {\"a\": null}]}");
        JsonNode bobReordered = JSON.readTree("{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"ago\": [{\"a\": null}, 1]}");

        PresenceStates states = new PresenceStates(List.of(bob, alice, aliceAgain, bobAgain, bobReordered));

        assertThat(aliceAgain).isEqualTo(alice); // as Jackson compares them
        assertThat(states).containsExactly(bob, alice, bobReordered);
        assertThat(states.contains(aliceAgain)).isTrue();
        assertThat(states.add(bobAgain)).isFalse();
    }

    @Test
    void statesAddedFromAnotherSetAreKeptOnceByContent() {
        JsonNode alice = JSON.readTree("{\"user_id\": \"@alice:example.com\", \"state\": \"online\"}");
        JsonNode aliceAgain = JSON.readTree("{\"state\": \"online\", \"user_id\": \"@alice:example.com\"}");
        JsonNode bob = JSON.readTree("{\"user_id\": \"@bob:example.com\", \"state\": \"offline\"}");
        PresenceStates states = new PresenceStates(List.of(alice));

        assertThat(states.addAll(new PresenceStates(List.of(aliceAgain, bob)))).isTrue();
        assertThat(states).containsExactly(alice, bob);
        assertThat(new PresenceStates(states).contains(aliceAgain)).isTrue();
        assertThat(states.addAll(PresenceStates.readOnly(List.of(bob, aliceAgain)))).isFalse();
    }

    @Test
    void statesMadeToCollideInStringHashCodeGetHashesOfTheirOwn() {
        // every user ID of "Aa" and "BB" pairs has one String.hashCode: JsonNode.hashCode gives them all one hash
        List<JsonNode> colliding = new ArrayList<>();
        for (int i = 0; i < 4_096; i++) {
            StringBuilder localpart = new StringBuilder();
            for (int bit = 0; bit < 12; bit++) {
                localpart.append((i >> bit & 1) == 0 ? "Aa" : "BB");
            }
            colliding.add(JSON.readTree("{\"user_id\": \"@" + localpart + ":example.com\", \"state\": \"online\"}"));
        }
        Set<Integer> jacksonHashes = new HashSet<>();
        Set<Integer> ownHashes = new HashSet<>();
        colliding.forEach(state -> {
            jacksonHashes.add(state.hashCode());
            ownHashes.add(PresenceStates.hash(state));
        });

        assertThat(jacksonHashes).hasSize(1);
        assertThat(ownHashes).hasSizeGreaterThan(4_090);
        assertThat(new PresenceStates(colliding)).hasSize(4_096);
    }

    @Test
    void statesThatDifferInANumberOrALiteralAreToldApartAndEqualOnesAreNot() {
        Set<Integer> hashes = new HashSet<>();
        for (int i = 0; i < 4_096; i++) {
            hashes.add(PresenceStates.hash(JSON.readTree("{\"user_id\": \"@a:x\", \"last_active_ts\": " + (1_765_000_000_000L + i) + "}")));
        }
        JsonNode state = JSON.readTree("{\"user_id\": \"@a:x\", \"ts\": 1765000000000, \"n\": 7, \"active\": true, \"msg\": null}");
        JsonNode same = JSON.readTree("{\"msg\": null, \"active\": true, \"n\": 7, \"ts\": 1765000000000, \"user_id\": \"@a:x\"}");

        assertThat(hashes).hasSizeGreaterThan(4_090);
        assertThat(PresenceStates.hash(same)).isEqualTo(PresenceStates.hash(state));
        assertThat(new PresenceStates(List.of(state, same, JSON.readTree("{\"user_id\": \"@a:x\", \"ts\": 1765000000000, \"n\": 7, \"active\": false, \"msg\": null}"))))
                .hasSize(2);
    }

    /**
     * Values of two kinds that write alike, or that run the same hashing steps (an integer and a string
     * of 16 characters, chosen so), hash apart: otherwise they collide whatever the secret, and a state
     * of k fields whose kinds a sender picks makes 2^k states of one hash (found by helper 232).
     */
    @Test
    void valuesOfTwoKindsHashApartWhateverTheyWrite() {
        List<String> pairs = List.of("123", "\"123\"", "true", "\"true\"", "null", "\"null\"",
                "28147922879250545", "\"abcd\\u0003" + "\\u0000".repeat(11) + "\"");
        for (int i = 0; i < pairs.size(); i += 2) {
            assertThat(PresenceStates.hash(JSON.readTree("{\"v\": " + pairs.get(i) + "}")))
                    .as(pairs.get(i) + " against " + pairs.get(i + 1))
                    .isNotEqualTo(PresenceStates.hash(JSON.readTree("{\"v\": " + pairs.get(i + 1) + "}")));
        }
    }

    /** A state nested as deep as an event can (presence content comes through the policy API too): no recursion. */
    @Test
    void aStateNestedThirtyThousandDeepIsKeptOnceOnAVirtualThread() throws InterruptedException {
        String deep = "{\"user_id\": \"@a:x\", \"x\": " + "[{\"k\": 1, \"j\": ".repeat(30_000) + "2" + "}]".repeat(30_000) + "}";
        JsonNode state = EventJson.MAPPER.readTree(deep);
        JsonNode reordered = EventJson.MAPPER.readTree(deep.replace("{\"k\": 1, \"j\": 2}", "{\"j\": 2, \"k\": 1}"));
        int[] sizes = new int[2];

        Thread.ofVirtual().start(() -> {
            PresenceStates states = new PresenceStates(List.of(state, EventJson.MAPPER.readTree(deep), reordered));
            sizes[0] = states.size();
            sizes[1] = PresenceStates.hash(state) == PresenceStates.hash(reordered) ? 1 : 0;
        }).join();

        assertThat(sizes).containsExactly(1, 1);
    }
}
