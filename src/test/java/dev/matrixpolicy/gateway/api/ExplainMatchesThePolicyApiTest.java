package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.Gen;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * For every decision callback and any body (the valid sample of {@code CallbackRequests}, its
 * users swapped for generated ones some of which the denylist refuses, bodies changed at any depth,
 * with names of half a surrogate pair ({@link HalfPairBodies}), and text that is nearly JSON),
 * explain answers exactly what the policy API answers: the same status and the same JSON.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("explain")
class ExplainMatchesThePolicyApiTest {
    /** A body whose users were swapped lacks the updates of the users the static presence answers name: their modules fail. */
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("who has no update in the batch");

    private static final int TRIES = 25;
    private static final Pattern USER_ID = Pattern.compile("@[a-z0-9._=/-]+:[a-z0-9.-]+(?::[0-9]+)?");
    private static final List<String> USERS = List.of("@alice:example.com", "@spammer:example.org", "@eve:bad.example",
            "@spam:example.com", "@bob:elsewhere.example");

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    GatewayClient policy;
    GatewayClient management;

    @BeforeEach
    void connect() {
        policy = new GatewayClient(port, "e2e-secret-token");
        management = new GatewayClient(managementPort, null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void explainGivesThePolicyApisAnswerForAnyBody(String path, String body, int status, String expected) {
        if (notification(path)) {
            return; // refused by explain, see below
        }
        ObjectNode valid = Gen.parse(body);
        Gen.forAll(path.hashCode(), TRIES, gen -> gen.chance(0.4) ? withUsers(gen, body)
                        : gen.chance(0.3) ? new String(new HalfPairBodies(gen).next(body).half(), StandardCharsets.UTF_8)
                        : gen.chance(0.8) ? gen.mutate(valid).toString() : gen.nearJson(body),
                variant -> {
                    Answer api = policy.post("/v1/" + path, variant);
                    Answer explained = management.post("/actuator/explain/" + path, variant);

                    assertThat(explained.status()).as(explained.body()).isEqualTo(200);
                    assertThat(explained.json().path("status").asInt()).as(variant).isEqualTo(api.status());
                    assertThat(explained.json().path("answer")).as(variant).isEqualTo(api.json());
                });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void notificationsAreRefusedWithoutNotifyingAnyone(String path, String body, int status, String expected) {
        if (!notification(path)) {
            return;
        }
        Answer explained = management.post("/actuator/explain/" + path, body);

        assertThat(explained.status()).isEqualTo(400);
        assertThat(explained.json().path("errcode").asText()).isEqualTo("M_INVALID_PARAM");
        assertThat(explained.json().path("error").asText()).contains("is a notification");
    }

    @Test
    void theTraceShowsEachEntryAskedTheDecidingOneAndTheShadowOnesAnswer() {
        Answer explained = management.post("/actuator/explain/spam_checker/user_may_invite",
                "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}");

        assertThat(explained.json().path("decided_by").asText()).isEqualTo("decide");
        assertThat(explained.json().path("trace").findValuesAsString("entry")).containsExactly("spammers", "trial", "pass", "decide");
        assertThat(explained.json().at("/trace/1/mode").asText()).isEqualTo("shadow");
        assertThat(explained.json().at("/trace/1/answer/errcode").asText()).isEqualTo("M_FORBIDDEN");
        assertThat(explained.json().at("/trace/1/decided").asBoolean()).isFalse();
        assertThat(explained.json().at("/trace/3/decided").asBoolean()).isTrue();
        assertThat(explained.json().at("/trace/3/micros").asDouble()).isNotNegative();
        assertThat(explained.json().path("not_asked").toString()).contains("never");
    }

    @Test
    void aBodyTheApiRefusesAsksNoEntrySoEveryEntryIsNotAsked() {
        Answer explained = management.post("/actuator/explain/spam_checker/user_may_invite",
                "{\"inviter\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}");

        assertThat(explained.json().path("status").asInt()).isEqualTo(400);
        assertThat(explained.json().path("decided_by").isNull()).isTrue();
        assertThat(explained.json().path("trace").isEmpty()).isTrue();
        assertThat(explained.json().path("not_asked").valueStream().map(JsonNode::asString))
                .containsExactly("spammers", "trial", "pass", "decide", "never");
    }

    @Test
    void anExplainGivesBackWhatItsBodyHeldOfThePolicyApisBudgetForBodies() throws InterruptedException {
        Answer explained = management.post("/actuator/explain/spam_checker/user_may_invite",
                "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}");
        assertThat(explained.status()).isEqualTo(200);

        long deadline = System.nanoTime() + 10_000_000_000L; // given back once the servlet returns, maybe just after the answer
        while (RequestBodyReader.Budget.POLICY_API.held() != 0) {
            assertThat(System.nanoTime()).as("held %d", RequestBodyReader.Budget.POLICY_API.held()).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void anUnknownCallbackIsNotFoundNamingThePathThatExplainsOne() {
        Answer explained = management.post("/actuator/explain/spam_checker/user_may_fly", "{}");

        assertThat(explained.status()).isEqualTo(404);
        assertThat(explained.json().path("errcode").asText()).isEqualTo("M_UNRECOGNIZED");
        assertThat(explained.json().path("error").asText()).contains("e.g. /actuator/explain/spam_checker/user_may_invite");
    }

    private static boolean notification(String path) {
        return Callbacks.ALL.stream().filter(type -> type.path().equals(path)).findFirst().orElseThrow()
                .resultType() == ResultTypes.NOTHING;
    }

    /** The sample with each user ID replaced by one of a few, some of which the denylist lists. */
    private static String withUsers(Gen gen, String body) {
        return USER_ID.matcher(body).replaceAll(match -> gen.oneOf(USERS));
    }
}
