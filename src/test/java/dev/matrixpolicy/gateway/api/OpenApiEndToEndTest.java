package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.JsonSchemas;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.http.HttpHeaders;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /v1/openapi.json} on a gateway where every callback has a module: the document served
 * is valid OpenAPI 3.1, it is the generated one, its callbacks are discovery's, and every callback
 * answers its documented example as documented.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("openapi")
class OpenApiEndToEndTest {
    /** Over the default max-body-size of 1 MiB. */
    private static final int TOO_LARGE = 1024 * 1024 + 1;
    /** The WARN line of each request sent here without the token, kept off the console. */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of(BearerTokenFilter.class, Level.DEBUG);
    /** The WARN lines of a module that fails on a body changed from the example, answered with the documented 503. */
    @RegisterExtension
    final LoggedLines moduleFailures = LoggedLines.of("dev.matrixpolicy.gateway.decisions", Level.WARN);

    @LocalServerPort
    int port;

    GatewayClient gateway;

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "openapi-secret-token");
    }

    @Test
    void theServedReferenceIsValidOpenApi31AndTheGeneratedDocument() {
        Answer answer = gateway.get("/v1/openapi.json");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.contentType()).startsWith("application/json");
        assertThat(JsonSchemas.problems(JsonSchemas.OPENAPI_3_1, answer.json())).isEmpty();
        assertThat(answer.body()).isEqualTo(new String(OpenApiDocument.generate(OpenApiDocument.projectVersion()), StandardCharsets.UTF_8));
    }

    @Test
    void itsCallbacksAreTheCallbacksDiscoveryLists() {
        JsonNode reference = gateway.get("/v1/openapi.json").json();
        JsonNode discovery = gateway.get("/v1/callbacks").json();

        assertThat(callbackPaths(reference)).containsExactlyInAnyOrderElementsOf(discovery.get("callbacks").valueStream()
                .map(callback -> "/v1/" + callback.get("category").asString() + "/" + callback.get("callback").asString())
                .toList());
        assertThat(OpenApiDocumentTest.answerProblems(reference, "/v1/callbacks", "get", 200, discovery)).isEmpty();
    }

    @Test
    void theReferenceNeedsTheTokenAsDiscoveryDoes() {
        assertThat(new GatewayClient(port, null).get("/v1/openapi.json").status()).isEqualTo(401);
        assertThat(new GatewayClient(port, "wrong").get("/v1/openapi.json").status()).isEqualTo(401);
    }

    @Test
    void everyCallbackAnswersItsExampleAsTheReferenceDocuments() {
        JsonNode reference = gateway.get("/v1/openapi.json").json();
        Map<String, JsonNode> examples = callbackPaths(reference).stream().collect(Collectors.toMap(path -> path,
                path -> reference.get("paths").get(path).get("post").at("/requestBody/content/application~1json/example")));

        examples.forEach((path, example) -> {
            Answer answer = gateway.post(path, example.toString());
            assertThat(answer.status()).as("%s %s", path, answer.body()).isIn(200, 403);
            assertThat(OpenApiDocumentTest.answerProblems(reference, path, "post", answer.status(), answer.json()))
                    .as(path).isEmpty();
        });
        assertThat(gateway.post("/v1/spam_checker/user_may_invite",
                examples.get("/v1/spam_checker/user_may_invite").toString()).status()).isEqualTo(403);
    }

    @Test
    void aBadRequestIsAnsweredAsTheReferenceDocuments() {
        JsonNode reference = gateway.get("/v1/openapi.json").json();
        Answer missing = gateway.post("/v1/spam_checker/user_may_invite", "{}");

        assertThat(missing.status()).isEqualTo(400);
        assertThat(OpenApiDocumentTest.answerProblems(reference, "/v1/spam_checker/user_may_invite", "post", 400, missing.json())).isEmpty();
    }

    /**
     * synapse-http-antispam sends a room version 12 create event to {@code check_event_for_spam} as
     * Synapse holds it, without {@code room_id}: the reference allows it, and the gateway answers it.
     */
    @Test
    void aRoomVersion12CreateEventWithoutRoomIdMatchesTheReferenceAndIsAnswered() {
        JsonNode reference = gateway.get("/v1/openapi.json").json();
        String path = "/v1/spam_checker/check_event_for_spam";
        JsonNode schema = reference.get("paths").get(path).get("post").at("/requestBody/content/application~1json/schema");
        String body = """
                {"event": {"event_id": "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "sender": "@alice:example.org",
                           "type": "m.room.create", "state_key": "", "content": {"room_version": "12"}}}""";

        assertThat(JsonSchemas.problems(schema, GatewayClient.json(body))).isEmpty();
        Answer answer = gateway.post(path, body);
        assertThat(answer.status()).as(answer.body()).isIn(200, 403);
        assertThat(OpenApiDocumentTest.answerProblems(reference, path, "post", answer.status(), answer.json())).isEmpty();
    }

    /**
     * For every callback, its example with each argument, at every depth, left out and replaced
     * by a value of every JSON type: the gateway refuses such a body with a documented 400 exactly
     * when the documented schema refuses it, and answers it as documented otherwise. So a field the
     * schema calls optional but the reader needs, a type or bound one states and the other not,
     * cannot drift apart unseen. Strings keep the example's text, whose grammar the schema leaves
     * to prose (a user ID, an alias).
     */
    @Test
    void everyCallbackRefusesWithA400ExactlyTheBodiesItsSchemaRefuses() {
        JsonNode reference = gateway.get("/v1/openapi.json").json();
        List<String> disagreements = new ArrayList<>();
        for (String path : callbackPaths(reference)) {
            JsonNode body = reference.get("paths").get(path).get("post").at("/requestBody/content/application~1json");
            ObjectNode example = (ObjectNode) body.get("example");
            for (String field : fields(body.get("schema"), example, "")) {
                JsonPointer pointer = JsonPointer.compile(field);
                for (JsonNode value : replacements(example.at(pointer))) {
                    ObjectNode sent = example.deepCopy();
                    ObjectNode parent = (ObjectNode) sent.at(pointer.head());
                    if (value == null) {
                        parent.remove(pointer.last().getMatchingProperty());
                    } else {
                        parent.set(pointer.last().getMatchingProperty(), value);
                    }
                    List<String> schemaProblems = JsonSchemas.problems(body.get("schema"), sent);
                    Answer answer = gateway.post(path, sent.toString());
                    List<String> answerProblems = answer.contentType().startsWith("application/json")
                            ? OpenApiDocumentTest.answerProblems(reference, path, "post", answer.status(), answer.json())
                            : List.of("not JSON: " + answer.body());
                    if (schemaProblems.isEmpty() == (answer.status() == 400) || !answerProblems.isEmpty()) {
                        disagreements.add("%s %s=%s: schema %s, gateway %d %s %s".formatted(path, field, value == null ? "<absent>" : value,
                                schemaProblems, answer.status(), answer.body(), answerProblems));
                    }
                }
            }
        }
        assertThat(disagreements).isEmpty();
    }

    /**
     * Every documented operation answers every other method with its documented 405 and an
     * {@code Allow} naming the documented method, a request without the token with the documented
     * 401, and, where it takes a body, one over max-body-size with the documented 413.
     */
    @Test
    void everyOperationAnswersAWrongMethodNoTokenAndATooLargeBodyAsDocumented() {
        JsonNode reference = gateway.get("/v1/openapi.json").json();
        GatewayClient anonymous = new GatewayClient(port, null);
        List<String> disagreements = new ArrayList<>();
        reference.get("paths").properties().forEach(entry -> {
            String path = entry.getKey();
            String method = entry.getValue().propertyNames().iterator().next();
            JsonNode responses = entry.getValue().get(method).get("responses");
            for (String other : List.of("GET", "HEAD", "PUT", "POST", "DELETE", "PATCH")) {
                if (other.equalsIgnoreCase(method) || other.equals("HEAD") && method.equals("get")) {
                    continue;
                }
                Answer answer = gateway.send(gateway.authorized(path).method(other, other.equals("HEAD") ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString("{}")).build());
                String allow = method.toUpperCase(Locale.ROOT) + (method.equals("get") ? ", HEAD" : "") + ", OPTIONS";
                if (answer.status() != 405 || !responses.has("405") || !answer.header(HttpHeaders.ALLOW).equals(allow)
                        || !other.equals("HEAD") && !OpenApiDocumentTest.answerProblems(reference, path, method, 405, answer.json()).isEmpty()) {
                    disagreements.add("%s %s: %d %s %s, documented %s".formatted(other, path, answer.status(),
                            answer.header(HttpHeaders.ALLOW), answer.body(), responses.propertyNames()));
                }
            }
            Answer unauthorized = anonymous.send(anonymous.request(path).method(method.toUpperCase(Locale.ROOT),
                    method.equals("get") ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString("{}")).build());
            if (unauthorized.status() != 401 || !responses.has("401") || !unauthorized.header(HttpHeaders.WWW_AUTHENTICATE).equals("Bearer")
                    || !unauthorized.contentType().startsWith("text/plain")) {
                disagreements.add("%s %s without the token: %d %s".formatted(method, path, unauthorized.status(), unauthorized.body()));
            }
            if (entry.getValue().get(method).has("requestBody")) {
                Answer tooLarge = gateway.post(path, "{\"x\": \"" + "a".repeat(TOO_LARGE) + "\"}");
                if (tooLarge.status() != 413 || !responses.has("413")
                        || !OpenApiDocumentTest.answerProblems(reference, path, method, 413, tooLarge.json()).isEmpty()) {
                    disagreements.add("POST %s too large: %d %s".formatted(path, tooLarge.status(), tooLarge.body()));
                }
            }
        });
        assertThat(disagreements).isEmpty();
    }

    /**
     * The JSON pointers of the fields a schema describes in its example, at every depth: an object's
     * properties, and those of a list's first element.
     */
    private static List<String> fields(JsonNode schema, JsonNode example, String at) {
        List<String> fields = new ArrayList<>();
        if (example == null || !schema.has("properties") && !schema.has("items")) {
            return fields;
        }
        if (example.isArray() && !example.isEmpty() && schema.get("items") != null) {
            return fields(schema.get("items"), example.get(0), at + "/0");
        }
        if (!example.isObject() || !schema.has("properties")) {
            return fields;
        }
        for (String name : schema.get("properties").propertyNames()) {
            String field = at + "/" + name.replace("~", "~0").replace("/", "~1");
            fields.add(field);
            fields.addAll(fields(schema.get("properties").get(name), example.get(name), field));
        }
        return fields;
    }

    /**
     * A value of every JSON type, and text of no ID's shape; for a text example, itself and itself
     * made longer than any ID may be. Null stands for the field left out.
     */
    private static List<JsonNode> replacements(JsonNode example) {
        example = example.isMissingNode() ? null : example;
        JsonNodeFactory json = JsonNodeFactory.instance;
        List<JsonNode> values = new ArrayList<>(Arrays.asList(null, json.nullNode(), json.booleanNode(true), json.numberNode(7),
                json.numberNode(-1), json.numberNode(new BigDecimal("1.5")), json.arrayNode(), json.objectNode(), json.stringNode("text")));
        if (example != null && example.isString()) {
            values.add(example);
            values.add(json.stringNode(example.asString() + "x".repeat(300)));
        }
        return values;
    }

    /** The POST paths of the callbacks, that is all but synapse-http-antispam's health check. */
    private static List<String> callbackPaths(JsonNode reference) {
        return reference.get("paths").properties().stream()
                .filter(path -> path.getValue().has("post") && !path.getKey().equals("/v1/spam_checker/ping"))
                .map(Map.Entry::getKey).toList();
    }
}
