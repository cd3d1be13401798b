package dev.matrixpolicy.gateway.modules.presencerouter;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Both presence router callbacks over real HTTP, through a chain of two routers
 * (application-presence.yml): {@code docs-example} (the Synapse docs' example) and {@code auditing}
 * ({@code @auditor} receives ALL, {@code @carol} receives {@code @alice}, and a team written with a YAML
 * anchor sees itself).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("presence")
class PresenceRouterEndToEndTest extends GatewayEndToEnd {
    private static final String BOB = "{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"status_msg\": \"hi\"}";
    private static final String CHARLIE = "{\"user_id\": \"@charlie:somewhere.org\", \"state\": \"unavailable\"}";
    private static final String DAVE = "{\"user_id\": \"@dave:example.com\", \"state\": \"offline\"}";
    private static final String ALICE = "{\"user_id\": \"@alice:example.com\", \"state\": \"online\"}";

    PresenceRouterEndToEndTest() {
        super("presence-token");
    }

    @Test
    void updatesAreForwardedToTheDocsExampleReceiverTheAuditorAndAChainedReceiver() {
        assertThat(usersForStates(BOB, CHARLIE, DAVE, ALICE)).isEqualTo(GatewayClient.json("{"
                + "\"@alice:example.com\": [" + BOB + ", " + CHARLIE + "],"
                + "\"@auditor:example.com\": [" + String.join(", ", BOB, CHARLIE, DAVE, ALICE) + "],"
                + "\"@carol:example.com\": [" + ALICE + "]}"));
    }

    @Test
    void askedForTheCompactFormEachStateIsWrittenOnceAndEachReceiverNamesItsSetOfThem() {
        JsonNode compact = result(gateway.post("/v1/presence_router/get_users_for_states",
                "{\"answer_form\": \"compact\", \"state_updates\": [" + String.join(", ", BOB, CHARLIE, DAVE, ALICE) + "]}"));
        assertThat(compact.get("states")).containsExactlyInAnyOrderElementsOf(GatewayClient.json("[" + String.join(", ", BOB, CHARLIE, DAVE, ALICE) + "]"));
        assertThat(compact.get("sets")).hasSize(3);
        assertThat(full(compact)).isEqualTo(usersForStates(BOB, CHARLIE, DAVE, ALICE));
    }

    @Test
    void anAnswerFormOtherThanCompactGetsTheFullForm() {
        assertThat(result(gateway.post("/v1/presence_router/get_users_for_states",
                "{\"answer_form\": \"tiny\", \"state_updates\": [" + DAVE + "]}")))
                .isEqualTo(GatewayClient.json("{\"@auditor:example.com\": [" + DAVE + "]}"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "true", "{\"form\": \"compact\"}", "[\"compact\"]", "[{\"form\": \"compact\"}]"})
    void anAnswerFormThatIsNotAStringGetsTheFullFormAsAnyOtherValueDoes(String form) {
        // as the docs and an older gateway have it: only "compact" asks, and nothing else is refused
        assertThat(result(gateway.post("/v1/presence_router/get_users_for_states",
                "{\"answer_form\": " + form + ", \"state_updates\": [" + DAVE + "]}")))
                .isEqualTo(GatewayClient.json("{\"@auditor:example.com\": [" + DAVE + "]}"));
    }

    @Test
    void updateNobodyRoutesGoesToTheAuditorOnly() {
        assertThat(usersForStates(DAVE)).isEqualTo(GatewayClient.json("{\"@auditor:example.com\": [" + DAVE + "]}"));
    }

    @Test
    void aliceIsInterestedInExactlyBobAndCharlieAsInTheDocsExample() {
        assertThat(interestedUsers("@alice:example.com")).isEqualTo(GatewayClient.json("[\"@bob:example.com\", \"@charlie:somewhere.org\"]"));
    }

    @Test
    void auditorIsInterestedInAllUsers() {
        assertThat(interestedUsers("@auditor:example.com").asString()).isEqualTo("ALL");
        assertThat(scrape(managementPort)).containsPattern(
                "policy_decisions_total\\{[^}]*callback=\"get_interested_users\"[^}]*module=\"auditing\"[^}]*outcome=\"all_users\"[^}]*} [1-9]");
    }

    @Test
    void teamWrittenWithAYamlAnchorSeesEachOther() {
        assertThat(interestedUsers("@eve:example.com")).isEqualTo(GatewayClient.json("[\"@dana:example.com\", \"@eve:example.com\"]"));
    }

    @Test
    void userWithoutRoutesIsInterestedInNobodyExtra() {
        assertThat(interestedUsers("@bob:example.com")).isEqualTo(GatewayClient.json("[]"));
    }

    private JsonNode usersForStates(String... updates) {
        return result(gateway.post("/v1/presence_router/get_users_for_states",
                "{\"state_updates\": [" + String.join(", ", updates) + "]}"));
    }

    private JsonNode interestedUsers(String user) {
        return result(gateway.post("/v1/presence_router/get_interested_users", "{\"user_id\": \"" + user + "\"}"));
    }

    /** The full form of a compact answer: each user with the states its set's indices name. */
    private static JsonNode full(JsonNode compact) {
        ObjectNode full = JsonNodeFactory.instance.objectNode();
        compact.get("users").properties().forEach(user -> {
            ArrayNode states = full.putArray(user.getKey());
            compact.get("sets").get(user.getValue().asInt()).forEach(index -> states.add(compact.get("states").get(index.asInt())));
        });
        return full;
    }

    private static JsonNode result(Answer answer) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json().get("result");
    }
}
