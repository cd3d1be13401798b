package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The policy API's reference: an OpenAPI 3.1 document built from the code it describes, so it
 * cannot drift from it. Each callback of the catalog is a {@code POST} path whose request body is
 * what the callback's reader reads ({@link CallbackType#arguments}) and whose {@code 200} answer is
 * its result type's {@linkplain dev.matrixpolicy.gateway.callbacks.ResultType#schema schema}; the
 * error answers are what {@link MatrixErrors} makes of the failures a request can meet. Served at
 * {@value #PATH} and checked in as {@code docs/api/openapi.json}: the build writes the document to
 * {@code target/openapi.json} with {@link #main}, and {@code OpenApiDocumentTest} fails while the
 * checked-in copy differs from it.
 */
final class OpenApiDocument {
    static final String PATH = "/v1/openapi.json";
    private static final String API = "/v1/";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** Two-space indents and {@code \n} line ends on every OS, so the checked-in file is the same everywhere. */
    private static final JsonMapper PRETTY = JsonMapper.builder()
            .defaultPrettyPrinter(new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")))
            .build();
    private static final String BUILD_INFO = "/META-INF/build-info.properties";
    private static final String UNKNOWN_VERSION = "unknown";
    private static final String MATRIX_ERROR = "#/components/schemas/MatrixError";
    private static final String JSON_TYPE = MediaType.APPLICATION_JSON_VALUE;
    private static final String TEXT_TYPE = MediaType.TEXT_PLAIN_VALUE;

    /** The Matrix error answers a request can get, by status, under their names in {@code components.responses}. */
    private static final List<ErrorAnswer> ERROR_ANSWERS = List.of(
            new ErrorAnswer(400, "BadRequest", "The request is malformed: its HTTP, or a body that is not a JSON object, "
                    + "or an argument that is missing (or null) or of the wrong type or grammar. The error names the field."),
            new ErrorAnswer(405, "MethodNotAllowed", "Wrong method for this path; the Allow header names the right ones."),
            new ErrorAnswer(413, "TooLarge", "The body is larger than max-body-size."),
            new ErrorAnswer(503, "ModuleFailed",
                    "M_UNKNOWN: a module failed on a fail-closed link: the request is refused, as when a Synapse module raises."
                            + " M_LIMIT_EXCEEDED, on every path: as many requests are being answered as the heap holds, or they hold"
                            + " the share of the heap their bodies may take (with the trees that may be built of them); no verdict:"
                            + " send it again shortly, or apply your own failure policy."));
    /**
     * A failure of each kind a request can meet. Their error codes, by status, are what
     * {@link MatrixErrors} answers them with, so a new code or a changed status shows in the document.
     */
    private static final List<MatrixErrors.MatrixError> ERRORS = List.of(
            MatrixErrors.forStatus(400),
            MatrixErrors.describe(MatrixApiException.notJson("not JSON")),
            MatrixErrors.describe(new BadArgumentException(BadArgumentException.Kind.MISSING, "f", "missing")),
            MatrixErrors.describe(new BadArgumentException(BadArgumentException.Kind.INVALID, "f", "invalid")),
            MatrixErrors.describe(MatrixApiException.methodNotAllowed("GET", "POST, OPTIONS")),
            MatrixErrors.describe(MatrixApiException.tooLarge(0)),
            MatrixErrors.describe(new ModuleFailedException("callback", "module", new IllegalStateException())),
            MatrixErrors.describe(MatrixApiException.overloaded("0.0 MiB")));
    private static final String UNAUTHORIZED = "Unauthorized";
    private static final String NOT_LOOPBACK = "NotLoopback";
    private static final String REJECTED_OR_NOT_LOOPBACK = "RejectedOrNotLoopback";

    private record ErrorAnswer(int status, String name, String description) {
    }

    private OpenApiDocument() {
    }

    /** Writes the document to the file named by {@code args[0]}; run by the build at process-classes. */
    static void main(String[] args) throws IOException {
        Path target = Path.of(args[0]);
        Files.createDirectories(target.toAbsolutePath().getParent());
        Files.write(target, generate(projectVersion()));
    }

    /** The document as the file holds it and the API serves it: indented JSON, UTF-8, ending in a newline. */
    static byte[] generate(String version) {
        String text = PRETTY.writerWithDefaultPrettyPrinter().writeValueAsString(build(version)) + "\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The project version the build recorded in {@value #BUILD_INFO} (Spring Boot's build-info goal);
     * {@value #UNKNOWN_VERSION} in a build that did not run it, such as an IDE's, which the drift test then reports.
     */
    static String projectVersion() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(BUILD_INFO)) {
            if (in == null) {
                return UNKNOWN_VERSION;
            }
            Properties buildInfo = new Properties();
            buildInfo.load(in);
            return buildInfo.getProperty("build.version", UNKNOWN_VERSION);
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
    }

    static ObjectNode build(String version) {
        ObjectNode document = JSON.objectNode().put("openapi", "3.1.0");
        document.putObject("info")
                .put("title", "matrix-policy-gateway policy API")
                .put("version", version)
                .put("description", "Synapse module callbacks answered over REST: one POST path per callback, whose body "
                        + "carries the callback's arguments under Synapse's Python parameter names; unknown fields are "
                        + "ignored. Generated from the gateway's callback descriptors (see docs/api.md). Every error "
                        + "is Matrix error JSON, except the plain-text refusals of a missing or wrong token; an unknown "
                        + "path is 404 M_UNRECOGNIZED.");
        document.putArray("security").addObject().putArray("bearerToken");
        ArrayNode tags = document.putArray("tags");
        for (Category category : Category.values()) {
            tags.addObject().put("name", category.wireName())
                    .put("description", "Synapse's register_" + category.wireName() + "_callbacks");
        }
        tags.addObject().put("name", "discovery").put("description", "What this gateway answers");

        ObjectNode paths = document.putObject("paths");
        for (CallbackType<?, ?, ?> callback : Callbacks.ALL) {
            paths.putObject(API + callback.path()).set("post", callbackOperation(callback));
        }
        paths.putObject(PolicyApiServlet.PING).set("post", ping());
        paths.putObject(PolicyApiServlet.CALLBACKS).set("get", discovery("callbacks",
                "Every callback whose chain has at least one module, so a homeserver shim registers only those",
                callbacksSchema()));
        paths.putObject(PolicyApiServlet.AUTH_CHECKERS).set("get", discovery("auth_checkers",
                "The login types that have auth checkers, with the fields a client must send", authCheckersSchema()));
        paths.putObject(PATH).set("get", discovery("openapi", "This document",
                JSON.objectNode().put("type", "object").put("description", "An OpenAPI 3.1 document")));

        ObjectNode components = document.putObject("components");
        components.putObject("schemas").set("MatrixError", matrixErrorSchema());
        components.set("responses", sharedResponses());
        components.putObject("securitySchemes").putObject("bearerToken")
                .put("type", "http").put("scheme", "bearer")
                .put("description", "The shared token, policy-gateway.auth.token (or token-file). When none is "
                        + "configured, no header is needed and only loopback callers are answered.");
        return document;
    }

    private static ObjectNode callbackOperation(CallbackType<?, ?, ?> callback) {
        JsonArgs.Description arguments = callback.arguments();
        ObjectNode operation = JSON.objectNode().put("operationId", callback.name());
        operation.putArray("tags").add(callback.category().wireName());
        ObjectNode body = operation.putObject("requestBody").put("required", true)
                .putObject("content").putObject(JSON_TYPE);
        ObjectNode schema = arguments.schema();
        body.set("schema", schema);
        body.set("example", arguments.example());

        ObjectNode responses = operation.putObject("responses");
        ObjectNode result = JSON.objectNode().put("type", "object");
        result.putArray("required").add("result");
        JsonNode full = callback.resultType().schema().deepCopy();
        result.putObject("properties").set("result", callback.resultType().compactForm().map(compact -> {
            // No type: any other value, of any JSON type, is read as asking for the full form, never refused.
            schema.withObjectProperty("properties").putObject(ResultType.ANSWER_FORM)
                    .put("description", "'" + ResultType.COMPACT + "' asks for the result's compact form; any other value, "
                            + "of any JSON type, or none, for the full form. A gateway older than this field answers the full form.");
            ObjectNode either = JSON.objectNode();
            either.putArray("oneOf").add(full).add(compact.schema().deepCopy());
            return (JsonNode) either;
        }).orElse(full));
        jsonResponse(responses, "200", "The chain's answer", result);
        refuse(responses, callback.resultType().mayReject() ? REJECTED_OR_NOT_LOOPBACK : NOT_LOOPBACK, 400, 405, 413, 503);
        return operation;
    }

    private static ObjectNode ping() {
        ObjectNode operation = JSON.objectNode()
                .put("operationId", "ping")
                .put("summary", "synapse-http-antispam's health check: echoes the id");
        operation.putArray("tags").add(Category.SPAM_CHECKER.wireName());
        ObjectNode request = JSON.objectNode().put("type", "object");
        request.putObject("properties").putObject("id");
        operation.putObject("requestBody").put("required", true).putObject("content").putObject(JSON_TYPE).set("schema", request);
        ObjectNode pong = JSON.objectNode().put("type", "object");
        pong.putArray("required").add("id").add("status");
        ObjectNode properties = pong.putObject("properties");
        properties.putObject("id").put("description", "The id sent, or null");
        properties.putObject("status").put("const", "ok");
        ObjectNode responses = operation.putObject("responses");
        jsonResponse(responses, "200", "Alive", pong);
        refuse(responses, NOT_LOOPBACK, 400, 405, 413, 503);
        return operation;
    }

    private static ObjectNode discovery(String operationId, String summary, ObjectNode schema) {
        ObjectNode operation = JSON.objectNode().put("operationId", operationId).put("summary", summary);
        operation.putArray("tags").add("discovery");
        ObjectNode responses = operation.putObject("responses");
        jsonResponse(responses, "200", summary, schema);
        refuse(responses, NOT_LOOPBACK, 405, 503);
        return operation;
    }

    private static ObjectNode callbacksSchema() {
        ObjectNode callback = object(properties -> {
            ArrayNode categories = properties.putObject("category").put("type", "string").putArray("enum");
            for (Category category : Category.values()) {
                categories.add(category.wireName());
            }
            ArrayNode names = properties.putObject("callback").put("type", "string").putArray("enum");
            Callbacks.ALL.forEach(type -> names.add(type.name()));
        }, "category", "callback");
        return object(properties -> {
            properties.putObject("callbacks").put("type", "array").set("items", callback);
            properties.putObject("max_body_size").put("type", "integer").put("minimum", 1)
                    .put("description", "The largest request body answered now, in bytes (max-body-size, which a "
                            + "reload may change): a larger one gets 413 M_TOO_LARGE");
        }, "callbacks", "max_body_size");
    }

    private static ObjectNode authCheckersSchema() {
        ObjectNode checker = object(properties -> {
            properties.putObject("login_type").put("type", "string");
            properties.putObject("fields").put("type", "array").putObject("items").put("type", "string");
        }, "login_type", "fields");
        return object(properties -> properties.putObject("auth_checkers").put("type", "array").set("items", checker),
                "auth_checkers");
    }

    private static ObjectNode matrixErrorSchema() {
        return object(properties -> {
            properties.putObject("errcode").put("type", "string").put("description", "A Matrix error code, e.g. M_FORBIDDEN");
            properties.putObject("error").put("type", "string").put("description", "A message for a human");
            properties.putObject("retry_after_ms").put("type", "integer").put("minimum", 0)
                    .put("description", "For a rate limit: how long to wait before trying again");
        }, "errcode", "error");
    }

    /** The error answers, named, for the operations to refer to. */
    private static ObjectNode sharedResponses() {
        ObjectNode responses = JSON.objectNode();
        for (ErrorAnswer answer : ERROR_ANSWERS) {
            ObjectNode schema = JSON.objectNode();
            ArrayNode allOf = schema.putArray("allOf");
            allOf.addObject().put("$ref", MATRIX_ERROR);
            ArrayNode errcodes = allOf.addObject().putObject("properties").putObject("errcode").putArray("enum");
            ERRORS.stream().filter(error -> error.status().value() == answer.status())
                    .map(MatrixErrors.MatrixError::errcode).distinct().forEach(errcodes::add);
            ObjectNode response = jsonResponse(responses, answer.name(), answer.description(), schema);
            if (answer.status() == 405) {
                response.putObject("headers").putObject(HttpHeaders.ALLOW).put("description", "The methods this path answers")
                        .putObject("schema").put("type", "string");
            }
        }
        ERRORS.stream().filter(error -> ERROR_ANSWERS.stream().noneMatch(answer -> answer.status() == error.status().value()))
                .findAny().ifPresent(undescribed -> {
                    throw new IllegalStateException("no error answer describes " + undescribed);
                });

        ObjectNode unauthorized = responses.putObject(UNAUTHORIZED).put("description",
                "A token is configured and the request carries none or another. Plain text on purpose: a Matrix "
                        + "M_UNKNOWN_TOKEN would be relayed to the user, whose client would log them out.");
        unauthorized.putObject("headers").putObject(HttpHeaders.WWW_AUTHENTICATE).putObject("schema").put("const", "Bearer");
        unauthorized.putObject("content").putObject(TEXT_TYPE).putObject("schema").put("type", "string");

        responses.putObject(NOT_LOOPBACK).put("description", "No token is configured and the caller is not on this machine.")
                .putObject("content").putObject(TEXT_TYPE).putObject("schema").put("type", "string");

        ObjectNode content = responses.putObject(REJECTED_OR_NOT_LOOPBACK).put("description",
                "The chain rejected the request: Matrix error JSON, which synapse-http-antispam reads as a rejection. "
                        + "Or, in plain text: no token is configured and the caller is not on this machine.")
                .putObject("content");
        content.putObject(JSON_TYPE).putObject("schema").put("$ref", MATRIX_ERROR);
        content.putObject(TEXT_TYPE).putObject("schema").put("type", "string");
        return responses;
    }

    /**
     * The refusals of an operation: 401 for a missing or wrong token, {@code forbidden} for 403, and
     * the Matrix error answers of the given statuses.
     */
    private static void refuse(ObjectNode responses, String forbidden, int... statuses) {
        Map<Integer, String> byStatus = new TreeMap<>(Map.of(401, UNAUTHORIZED, 403, forbidden));
        for (int status : statuses) {
            byStatus.put(status, ERROR_ANSWERS.stream().filter(answer -> answer.status() == status).findFirst().orElseThrow().name());
        }
        byStatus.forEach((status, name) -> responses.putObject(Integer.toString(status)).put("$ref", "#/components/responses/" + name));
    }

    private static ObjectNode jsonResponse(ObjectNode responses, String status, String description, JsonNode schema) {
        ObjectNode response = responses.putObject(status).put("description", description);
        response.putObject("content").putObject(JSON_TYPE).set("schema", schema);
        return response;
    }

    /** An object schema whose properties {@code properties} adds, with the given ones required. */
    private static ObjectNode object(Consumer<ObjectNode> properties, String... required) {
        ObjectNode schema = JSON.objectNode().put("type", "object");
        ArrayNode names = schema.putArray("required");
        for (String name : required) {
            names.add(name);
        }
        properties.accept(schema.putObject("properties"));
        return schema;
    }
}
