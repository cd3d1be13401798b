package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.JsonBody;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.decisions.DecisionRecorder;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.matrix.LogText;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The policy API, on the homeserver's hot path:
 * <ul>
 *   <li>{@code POST /v1/{category}/{callback}}, one endpoint per Synapse callback. The body's fields
 *       are the callback's Python parameter names. The answer is {@code 200 {"result": ...}}, except a
 *       {@link dev.matrixpolicy.gateway.callbacks.Rejection}, which is {@code 403 {"errcode": ..., "error": ...}}: exactly what
 *       synapse-http-antispam reads as a spam-checker rejection.</li>
 *   <li>{@code POST /v1/spam_checker/ping}, synapse-http-antispam's health check, which echoes the id.</li>
 *   <li>{@code GET /v1/callbacks} and {@code GET /v1/password_auth_provider/auth_checkers}: discovery,
 *       so a homeserver shim registers only the callbacks that have modules and pays nothing for the rest;
 *       the first also gives {@code max_body_size}, so a shim can keep its requests under it.</li>
 *   <li>{@code GET /v1/openapi.json}: this API's reference, {@link OpenApiDocument}, made once at startup.</li>
 * </ul>
 * A plain servlet rather than a Spring MVC controller, because profiling showed MVC's handler
 * mapping, argument resolution and message conversion costing several times the chain itself
 * (docs/performance.md). Routes are one map look-up; the body is parsed once (a list no module reads, such as a room's
 * state, only checked as it streams past: {@link JsonBody}); the answer is written with its
 * length, so keep-alive connections carry no chunked encoding. Every error is Matrix error JSON from
 * {@link MatrixErrors#describe}, written by {@link MatrixErrors.MatrixError#answer} as every port's
 * are. Each refusal and each module failure is handed to the {@link DecisionRecorder}, with the
 * errcode, reason and status answered here.
 *
 * <p>Each request leases the serving {@linkplain Generations generation} of chains and uses it to the
 * end, so a configuration reload never shows a request a mix of old and new chains.
 */
final class PolicyApiServlet extends HttpServlet {
    /** The servlet's name, which tells its requests apart from Spring MVC's. */
    static final String NAME = "policyApi";
    private static final String API = "/v1";
    static final String CALLBACKS = API + "/callbacks";
    static final String AUTH_CHECKERS = API + "/password_auth_provider/auth_checkers";
    static final String PING = API + "/spam_checker/ping";

    private final transient JsonMapper json;
    private final transient RequestBodyReader bodies;
    private final transient Map<String, Route> routes;
    private final transient RequestErrors errors;
    private final transient RecordedDecisions decisions;
    private final transient RequestsInFlight inFlight;
    /**
     * Answers whose result is a constant ({@link #isConstant}), written once per result type and
     * constant and then sent as the same bytes: writing them each time cost 3 % of a
     * {@code user_may_invite}'s CPU (docs/performance.md). As small as the callback catalogue.
     */
    private final transient Map<Constant, Answer> constantAnswers = new ConcurrentHashMap<>();

    PolicyApiServlet(Generations generations, RequestBodyReader bodies, JsonMapper json, RequestErrors errors,
                     DecisionRecorder decisions, RequestsInFlight inFlight) {
        this.json = json;
        this.inFlight = inFlight;
        this.bodies = bodies;
        this.errors = errors;
        this.decisions = new RecordedDecisions(decisions);
        Map<String, Route> byPath = new HashMap<>();
        // Every generation serves every callback: a callback without modules answers its default.
        Callbacks.ALL.stream().map(type -> type.category().wireName() + "/" + type.name()).forEach(path ->
                byPath.put(API + "/" + path, new Route("POST", request -> call(generations, path, bodies.readBody(request)))));
        byPath.put(PING, new Route("POST", request -> ping(bodies.readObject(request))));
        byPath.put(CALLBACKS, new Route("GET", request -> ok(callbacks(generations.current().chains(), bodies.limit()))));
        byPath.put(AUTH_CHECKERS, new Route("GET", request -> ok(authCheckers(generations.current().chains()))));
        Answer reference = new Answer(HttpServletResponse.SC_OK, OpenApiDocument.generate(OpenApiDocument.projectVersion()));
        byPath.put(OpenApiDocument.PATH, new Route("GET", request -> reference));
        this.routes = Map.copyOf(byPath);
    }

    /** The servlet's URL patterns: the discovery document, the API reference and one prefix per callback category. */
    static String[] urlPatterns() {
        return Stream.concat(Stream.of(CALLBACKS, OpenApiDocument.PATH), Stream.of(Category.values()).map(category -> API + "/" + category.wireName() + "/*"))
                .toArray(String[]::new);
    }

    /**
     * The path the container routed a request by: decoded, without {@code ;} path parameters, with
     * dot segments and double slashes resolved. The raw request URI is none of these.
     */
    static String routedPath(HttpServletRequest request) {
        String pathInfo = request.getPathInfo();
        return pathInfo == null ? request.getServletPath() : request.getServletPath() + pathInfo;
    }

    /**
     * Answers within the requests in flight, refusing one past them before its body is read; then
     * gives back its place and what its body held of the bodies' budget: on every path (an answer, a
     * refusal, a failure, a client gone while the answer is written), and only then, since a tree of
     * it may be built at any time before the answer.
     */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!inFlight.enter()) {
            answerError(inFlight.refusal(), response);
            return;
        }
        try {
            answer(request, response);
        } finally {
            inFlight.leave();
            bodies.release(request);
        }
    }

    private void answer(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = routedPath(request);
        Answer answer;
        try {
            Route route = routes.get(path);
            if (route == null) {
                throw MatrixApiException.unrecognized("Unknown callback " + LogText.quoted(path.substring(API.length() + 1)));
            }
            if ("OPTIONS".equals(request.getMethod())) {
                response.setHeader(HttpHeaders.ALLOW, route.allow());
                response.setContentLength(0);
                return;
            }
            if (!route.accepts(request.getMethod())) {
                throw MatrixApiException.methodNotAllowed(request.getMethod(), route.allow());
            }
            answer = route.handler().answer(request);
        } catch (RuntimeException failure) {
            answerError(failure, response);
            return;
        }
        response.setStatus(answer.status());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setContentLength(answer.body().length);
        response.getOutputStream().write(answer.body());
    }

    private void answerError(RuntimeException failure, HttpServletResponse response) throws IOException {
        MatrixErrors.MatrixError error = MatrixErrors.describe(failure);
        errors.count(error.status().value(), error.errcode());
        error.answer(response, json);
    }

    private Answer call(Generations generations, String path, JsonBody body) {
        try (Generations.Lease lease = generations.lease()) {
            return call(lease.generation().chains().endpoint(path).orElseThrow(), body);
        }
    }

    private <A, R> Answer call(CallbackEndpoint<A, R> endpoint, JsonBody body) {
        A args = endpoint.read(JsonArgs.of(body));
        boolean compact = asksForCompactForm(endpoint.resultType(), body);
        Decision<R> decision = decisions.decide(endpoint, args, body::outline, PolicyAnswer::status);
        R result = decision.result();
        if (compact || !isConstant(result)) {
            return answer(endpoint.resultType(), result, compact);
        }
        Constant constant = new Constant(endpoint.resultType(), result);
        Answer written = constantAnswers.get(constant);
        return written != null ? written : constantAnswers.computeIfAbsent(constant, key -> answer(endpoint.resultType(), result, false));
    }

    /**
     * Whether a result is one of a few values, whose answer is written once: an enum such as
     * {@code NOT_SPAM}, a boolean, or {@code check_event_allowed}'s allowance or denial without a
     * replacement (writing that each time was 1.2 to 1.7 % of a request's CPU with a room's state;
     * docs/performance.md).
     */
    private static boolean isConstant(Object result) {
        return result instanceof Enum<?> || result instanceof Boolean
                || result instanceof EventAllowed allowed && allowed.replacement().isEmpty();
    }

    /**
     * Whether the request asks for the result's compact form ({@value ResultType#ANSWER_FORM}:
     * {@value ResultType#COMPACT}), read only for a result type that has one: for the others it is a
     * field like any unknown one, ignored. Any other value, of any type, asks for the full form.
     */
    private static boolean asksForCompactForm(ResultType<?> type, JsonBody body) {
        return type.compactForm().isPresent()
                && JsonArgs.of(body).holds(ResultType.ANSWER_FORM, ResultType.COMPACT);
    }

    /**
     * The answer as one byte array, written with its length. Not streamed: the compact form, which our
     * Synapse module asks for, is about as large as the request's states (at most {@code max-body-size}).
     */
    private <R> Answer answer(ResultType<R> type, R result, boolean compact) {
        PolicyAnswer answer = PolicyAnswer.of(type, result, compact);
        return new Answer(answer.status(), json.writeValueAsBytes(answer.body()));
    }

    /**
     * A result that is one of a fixed set of values, under the type that writes it. Result types are
     * constants, compared by identity: a type's own equality would hash its JSON Schema.
     */
    private record Constant(ResultType<?> type, Object result) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Constant that && that.type == type && that.result.equals(result);
        }

        @Override
        public int hashCode() {
            return 31 * System.identityHashCode(type) + result.hashCode();
        }
    }

    private Answer ping(ObjectNode body) {
        ObjectNode pong = JsonNodeFactory.instance.objectNode();
        pong.set("id", body.has("id") ? body.get("id") : JsonNodeFactory.instance.nullNode());
        pong.put("status", "ok");
        return ok(pong);
    }

    private Answer ok(Object body) {
        return new Answer(HttpServletResponse.SC_OK, json.writeValueAsBytes(body));
    }

    record CallbackInfo(String category, String callback) {
    }

    /**
     * @param maxBodySize the largest request body answered now ({@code max-body-size}, which a reload
     *                    may change), so a shim can keep its requests under it
     */
    record CallbackList(List<CallbackInfo> callbacks, long maxBodySize) {
    }

    record AuthChecker(String loginType, List<String> fields) {
    }

    record AuthCheckers(List<AuthChecker> authCheckers) {
    }

    /** Every callback whose chain has at least one module, and the request body limit. */
    private static CallbackList callbacks(CallbackChains chains, long maxBodySize) {
        return new CallbackList(chains.endpoints().stream()
                .filter(CallbackEndpoint::hasModules)
                .map(endpoint -> new CallbackInfo(endpoint.category().wireName(), endpoint.name()))
                .toList(), maxBodySize);
    }

    /** The login types that have auth checkers, with the fields a client must send. */
    private static AuthCheckers authCheckers(CallbackChains chains) {
        return new AuthCheckers(chains.authCheckers().keySet().stream()
                .map(type -> new AuthChecker(type.type(), type.fields()))
                .toList());
    }

    private record Answer(int status, byte[] body) {
    }

    @FunctionalInterface
    private interface Handler {
        Answer answer(HttpServletRequest request);
    }

    /** A path's one method and its handler. HEAD goes with GET, and OPTIONS with every route ({@link AllowedMethods}). */
    private record Route(String method, Handler handler) {
        boolean accepts(String requested) {
            return method.equals(requested) || "HEAD".equals(requested) && "GET".equals(method);
        }

        String allow() {
            return AllowedMethods.of(method);
        }
    }
}
