package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.JsonSchemas;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The API reference generated from the code: checked in as it is generated, valid OpenAPI 3.1,
 * and describing the answers the callbacks really give.
 */
class OpenApiDocumentTest {
    private static final Path CHECKED_IN = Path.of("docs/api/openapi.json");
    private static final ObjectNode DOCUMENT = OpenApiDocument.build(OpenApiDocument.projectVersion());

    /**
     * The drift check. The build writes the generated document to target/openapi.json and never
     * touches the checked-in copy, so a change to a callback, its reader or its result type fails
     * here until docs/api/openapi.json is regenerated and committed with it.
     */
    @Test
    void theCheckedInReferenceIsWhatTheCodeGenerates() throws IOException {
        String generated = new String(OpenApiDocument.generate(OpenApiDocument.projectVersion()), StandardCharsets.UTF_8);
        String checkedIn = Files.exists(CHECKED_IN) ? Files.readString(CHECKED_IN) : "";

        if (!checkedIn.equals(generated)) {
            fail(CHECKED_IN + " differs from the document the code generates" + firstDifference(checkedIn, generated)
                    + "\nRegenerate it with\n    ./mvnw -o process-classes && cp target/openapi.json " + CHECKED_IN
                    + "\nand commit it with the change.");
        }
    }

    @Test
    void theReferenceIsValidOpenApi31() {
        assertThat(JsonSchemas.problems(JsonSchemas.OPENAPI_3_1, DOCUMENT)).isEmpty();
        assertThat(DOCUMENT.get("openapi").asString()).isEqualTo("3.1.0");
    }

    @Test
    void everyCallbackOfTheCatalogIsAPostPathBesideDiscoveryPingAndTheReferenceItself() {
        List<String> callbackPaths = Callbacks.ALL.stream().map(type -> "/v1/" + type.path()).toList();

        assertThat(DOCUMENT.get("paths").propertyNames()).containsExactlyElementsOf(concat(callbackPaths,
                List.of("/v1/spam_checker/ping", "/v1/callbacks", "/v1/password_auth_provider/auth_checkers", "/v1/openapi.json")));
        callbackPaths.forEach(path -> assertThat(DOCUMENT.get("paths").get(path).propertyNames()).containsExactly("post"));
    }

    @Test
    void aCallbacksRequestBodyIsWhatItsReaderReadsAndAnswerFormWhereTheResultHasACompactForm() {
        for (CallbackType<?, ?, ?> type : Callbacks.ALL) {
            JsonNode body = DOCUMENT.get("paths").get("/v1/" + type.path()).get("post").get("requestBody").get("content")
                    .get("application/json");
            ObjectNode read = ((ObjectNode) body.get("schema").deepCopy());
            assertThat(read.get("properties").has(ResultType.ANSWER_FORM)).as(type.path()).isEqualTo(type.resultType().compactForm().isPresent());
            ((ObjectNode) read.get("properties")).remove(ResultType.ANSWER_FORM);
            assertThat(read).as(type.path()).isEqualTo(type.arguments().schema());
            assertThat(body.get("example")).as(type.path()).isEqualTo(type.arguments().example());
        }
    }

    @Test
    void errorAnswersListTheCodesTheOneErrorMappingGivesThem() {
        JsonNode responses = DOCUMENT.get("components").get("responses");

        assertThat(errcodes(responses.get("BadRequest"))).containsExactly("M_UNKNOWN", "M_NOT_JSON", "M_MISSING_PARAM", "M_INVALID_PARAM");
        assertThat(errcodes(responses.get("MethodNotAllowed"))).containsExactly("M_UNRECOGNIZED");
        assertThat(errcodes(responses.get("TooLarge"))).containsExactly("M_TOO_LARGE");
        assertThat(errcodes(responses.get("ModuleFailed"))).containsExactly("M_UNKNOWN", "M_LIMIT_EXCEEDED");
        assertThat(responses.get("Unauthorized").get("content").propertyNames()).containsExactly("text/plain");
    }

    @Test
    void onlyCallbacksThatMayRejectDocumentA403WithMatrixErrorJson() {
        for (CallbackType<?, ?, ?> type : Callbacks.ALL) {
            String forbidden = DOCUMENT.get("paths").get("/v1/" + type.path()).get("post").get("responses").get("403").get("$ref").asString();
            assertThat(forbidden).as(type.path())
                    .endsWith(type.resultType().mayReject() ? "/RejectedOrNotLoopback" : "/NotLoopback");
        }
    }

    /** The answers of the e2e table, for every callback, are what the reference documents for their status. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyCallbacksAnswerMatchesTheReferenceForItsStatus(String path, String body, int status, String expected) {
        assertThat(answerProblems(DOCUMENT, "/v1/" + path, "post", status, GatewayClient.json(expected))).isEmpty();
    }

    /**
     * What is wrong with {@code answer}, by the JSON schema the document gives the operation's
     * answer of that status (following a {@code $ref} to a shared response).
     */
    static List<String> answerProblems(JsonNode document, String path, String method, int status, JsonNode answer) {
        String response = "/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method + "/responses/" + status;
        JsonNode ref = document.at(response).get("$ref");
        if (ref != null) {
            response = ref.asString().substring(1);
        }
        assertThat(document.at(response + "/content/application~1json/schema").isMissingNode())
                .as("%s %s documents a JSON answer of status %d", method, path, status).isFalse();
        return JsonSchemas.problems(document, response + "/content/application~1json/schema", answer);
    }

    private static List<String> errcodes(JsonNode response) {
        return response.at("/content/application~1json/schema/allOf/1/properties/errcode/enum").valueStream()
                .map(JsonNode::asString).toList();
    }

    private static List<String> concat(List<String> first, List<String> second) {
        return Stream.concat(first.stream(), second.stream()).toList();
    }

    private static String firstDifference(String checkedIn, String generated) {
        if (checkedIn.isEmpty()) {
            return " (there is no checked-in copy)";
        }
        String[] old = checkedIn.split("\n", -1);
        String[] now = generated.split("\n", -1);
        for (int line = 0; line < Math.max(old.length, now.length); line++) {
            String was = line < old.length ? old[line] : "<end of file>";
            String is = line < now.length ? now[line] : "<end of file>";
            if (!was.equals(is)) {
                return ", first at line " + (line + 1) + ":\n    checked in: " + was.strip() + "\n    generated:  " + is.strip();
            }
        }
        return "";
    }
}
