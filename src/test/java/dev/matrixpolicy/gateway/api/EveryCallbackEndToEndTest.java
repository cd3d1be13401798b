package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.support.CallbackRequests;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Every callback of every category over real HTTP, through the chain pass → decide → never of
 * application-e2e.yml: each answer shows the callback's own chain rule at work.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.server.port=0", "policy-gateway.max-body-size=1MB"}) // the profile's 8 KB holds no deep event
@ActiveProfiles("e2e")
class EveryCallbackEndToEndTest {
    @LocalServerPort
    int port;

    GatewayClient gateway;

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "e2e-secret-token");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyCallbackAnswersByItsOwnChainRule(String path, String body, int status, String expected) {
        Answer answer = gateway.post("/v1/" + path, body);

        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).startsWith("application/json");
        assertThat(answer.json()).isEqualTo(GatewayClient.json(expected));
    }

    /**
     * The same request with 30,000 levels of nesting (what an event of 64 KiB holds, and Synapse on
     * Python 3.14 takes) added to each of its free-form objects (an event's content, a room's creation
     * request, account data): the same answer, never a 400 that a homeserver failing open would take
     * for a pass. Requests without such an object are sent as they are.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyCallbackAnswersTheSameHoweverDeepItsFreeFormContentNests(String path, String body, int status, String expected) {
        Answer answer = gateway.post("/v1/" + path, nestedDeepInside(body));

        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        if (!path.endsWith("on_create_room")) { // which answers with the request it was given
            assertThat(answer.json()).isEqualTo(GatewayClient.json(expected));
        }
    }

    /**
     * The same request with a name of half a surrogate pair (a lone escape, which Python's JSON reads,
     * so Synapse takes from a client's state or account data) in each of its free-form objects: the
     * same answer, never a 400 "not JSON" that the homeserver's module fails the request for (which
     * the parser of bytes answered: it refuses such a name, and reads the same escape in a string).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyCallbackAnswersTheSameWhenItsFreeFormContentHasANameOfHalfASurrogatePair(String path, String body, int status,
                                                                                      String expected) {
        String halves = "{\"\\udc00\": \"x\", \"a\\ud800\": {\"\\ud800\": [1]}}";
        Answer answer = gateway.post("/v1/" + path, insideFreeForm(body, halves));

        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.json()).isEqualTo(GatewayClient.json(expected));
    }

    private static final Set<String> FREE_FORM = Set.of("content", "request_content", "unsigned");

    private static String nestedDeepInside(String body) {
        return insideFreeForm(body, "[".repeat(30_000) + "{}" + "]".repeat(30_000));
    }

    /** {@code body} with {@code json} added under one name to each of its free-form objects; as it is when it has none. */
    private static String insideFreeForm(String body, String json) {
        ObjectNode request = (ObjectNode) EventJson.MAPPER.readTree(body);
        List<ObjectNode> freeForm = new ArrayList<>();
        EventJson.walk(request, new EventJson.Visitor() {
            @Override
            public void open(String name, boolean first, JsonNode container) {
                if (name != null && FREE_FORM.contains(name) && container.isObject()) {
                    freeForm.add((ObjectNode) container);
                }
            }

            @Override
            public void value(String name, boolean first, JsonNode value) {
            }

            @Override
            public void close(JsonNode container) {
            }
        });
        String written = EventJson.MAPPER.writeValueAsString(request);
        for (ObjectNode object : freeForm) {
            object.put("org.example.deep", "DEEP");
        }
        return EventJson.MAPPER.writeValueAsString(request)
                .replace("\"DEEP\"", json)
                .transform(added -> freeForm.isEmpty() ? written : added);
    }

    @Test
    void theTableAboveCoversEveryCallbackOfEveryCategory() {
        List<String> covered = CallbackRequests.everyCallback().map(arguments -> (String) arguments.get()[0]).toList();

        assertThat(covered).containsExactlyInAnyOrderElementsOf(Callbacks.ALL.stream().map(CallbackType::path).toList());
    }
}
