package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.JsonSchemas;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /v1/openapi.json} on a gateway where every callback has a module: the document served
 * is valid OpenAPI 3.1, it is the generated one, its callbacks are discovery's, and every callback
 * answers its documented example as documented.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("openapi")
class OpenApiEndToEndTest {
    /** The WARN line of each request sent here without the token, kept off the console. */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of(BearerTokenFilter.class, Level.DEBUG);

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

    /** The POST paths of the callbacks, that is all but synapse-http-antispam's health check. */
    private static List<String> callbackPaths(JsonNode reference) {
        return reference.get("paths").properties().stream()
                .filter(path -> path.getValue().has("post") && !path.getKey().equals("/v1/spam_checker/ping"))
                .map(Map.Entry::getKey).toList();
    }
}
