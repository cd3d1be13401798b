package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.matrix.LogText;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /actuator/explain/{category}/{callback}} on the management port: the same body as the
 * policy API, read by the same code, asked of the serving chain, answered with the decision the
 * homeserver would get ({@code status} and {@code answer}, exactly the policy API's) and its trace:
 * each entry asked, in order, with its answer or failure, its time, whether it decided, and the
 * shadow entries' answers; {@code not_asked} lists the rest (every entry, when the body was refused
 * before any was asked). Nothing is recorded: no metric, no
 * decision log. Notification callbacks are refused, since asking one notifies its modules.
 * A body the policy API would refuse (not JSON, too large, a missing or bad argument) is explained
 * as that refusal: 200 with the API's {@code status} and error {@code answer}, so the two compare whole.
 * {@code GET /actuator/explain} lists the callbacks an explain accepts that have entries, as
 * {@code {"callbacks": ["spam_checker/user_may_invite", ...]}}, for the console's form. {@code OPTIONS}
 * names the methods each path takes, as the policy API's routes do.
 */
final class ExplainServlet extends HttpServlet {
    static final String PATH = "/explain";

    private final transient Generations generations;
    private final transient RequestBodyReader bodies;
    private final transient JsonMapper json;

    ExplainServlet(Generations generations, RequestBodyReader bodies, JsonMapper json) {
        this.generations = generations;
        this.bodies = bodies;
        this.json = json;
    }

    /** Answers, then gives back what the body held of the policy API's budget for bodies, which an explain shares. */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        try {
            answer(request, response);
        } finally {
            bodies.release(request);
        }
    }

    private void answer(HttpServletRequest request, HttpServletResponse response) throws IOException {
        PolicyAnswer answer;
        try {
            String path = Optional.ofNullable(request.getPathInfo()).map(info -> info.substring(1)).orElse("");
            boolean listing = path.isEmpty(); // the explainable callbacks, read; else one callback, explained
            String allow = AllowedMethods.of(listing ? "GET" : "POST");
            if ("OPTIONS".equals(request.getMethod())) { // as the policy API and the console answer it
                response.setHeader(HttpHeaders.ALLOW, allow);
                response.setContentLength(0);
                return;
            }
            if (listing && ("GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod()))) {
                answer = new PolicyAnswer(HttpServletResponse.SC_OK, explainable());
            } else if (listing || !"POST".equals(request.getMethod())) {
                throw MatrixApiException.methodNotAllowed(request.getMethod(), allow);
            } else try (Generations.Lease lease = generations.lease()) {
                CallbackEndpoint<?, ?> endpoint = lease.generation().chains().endpoint(path)
                        .orElseThrow(() -> MatrixApiException.unrecognized("Unknown callback " + LogText.quoted(path) + ": use "
                                + request.getServletPath() + "/{category}/{callback}, e.g. " + request.getServletPath()
                                + "/spam_checker/user_may_invite"));
                if (!endpoint.explainable()) {
                    throw new BadArgumentException(BadArgumentException.Kind.INVALID, "callback", LogText.quoted(path)
                            + " is a notification: explaining it would notify its modules, so it cannot be explained");
                }
                answer = new PolicyAnswer(HttpServletResponse.SC_OK, explain(endpoint, request, lease.generation().number()));
            }
        } catch (RuntimeException refused) {
            MatrixErrors.describe(refused).answer(response, json);
            return;
        }
        byte[] body = json.writeValueAsBytes(answer.body());
        response.setStatus(answer.status());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setContentLength(body.length);
        if (!"HEAD".equals(request.getMethod())) {
            response.getOutputStream().write(body);
        }
    }

    private ObjectNode explainable() {
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        ArrayNode callbacks = list.putArray("callbacks");
        generations.current().chains().endpoints().stream()
                .filter(endpoint -> endpoint.explainable() && endpoint.hasModules())
                .forEach(endpoint -> callbacks.add(endpoint.path()));
        return list;
    }

    private <A, R> ObjectNode explain(CallbackEndpoint<A, R> endpoint, HttpServletRequest request, long generation) {
        ObjectNode explained = JsonNodeFactory.instance.objectNode();
        explained.put("category", endpoint.category().wireName());
        explained.put("callback", endpoint.name());
        explained.put("generation", generation);
        PolicyAnswer would;
        Trace<R> trace;
        try {
            trace = endpoint.explain(endpoint.read(JsonArgs.of(bodies.readBody(request))));
        } catch (RuntimeException badBody) {
            // a body the policy API would refuse (not JSON, too large, a bad argument): the explain is that refusal
            PolicyAnswer refused = PolicyAnswer.of(badBody);
            explained.put("status", refused.status());
            explained.set("answer", refused.body());
            explained.putNull("decided_by");
            explained.set("trace", JsonNodeFactory.instance.arrayNode());
            explained.set("not_asked", notAsked(endpoint, Set.of())); // refused before any entry was asked
            return explained;
        }
        Optional<String> decidedBy;
        switch (trace.outcome()) {
            case Trace.Decided<R> decided -> {
                would = PolicyAnswer.of(endpoint.resultType(), decided.decision().result());
                decidedBy = decided.decision().decidedBy();
            }
            case Trace.FailedClosed<R> failed -> {
                would = PolicyAnswer.of(failed.failure());
                decidedBy = Optional.of(failed.failure().module());
            }
        }
        explained.put("status", would.status());
        explained.set("answer", would.body());
        decidedBy.ifPresentOrElse(entry -> explained.put("decided_by", entry), () -> explained.putNull("decided_by"));
        ArrayNode steps = explained.putArray("trace");
        Set<String> asked = new LinkedHashSet<>();
        for (Trace.Step<R> step : trace.steps()) {
            asked.add(step.module());
            ObjectNode shown = steps.addObject();
            shown.put("entry", step.module());
            shown.put("mode", (step.shadow() ? Link.Mode.SHADOW : Link.Mode.ENFORCE).wireName());
            shown.put("outcome", step.reply().outcome().label());
            switch (step.reply()) {
                case Reply.Answered<R> answered -> {
                    shown.set("answer", endpoint.resultType().toJson(answered.answer()));
                    shown.putNull("error");
                }
                case Reply.Failed<R> failed -> {
                    shown.putNull("answer");
                    shown.put("error", failed.failure());
                }
            }
            shown.put("micros", step.nanos() / 1000.0);
            shown.put("decided", !step.shadow() && decidedBy.filter(step.module()::equals).isPresent());
        }
        explained.set("not_asked", notAsked(endpoint, asked));
        return explained;
    }

    /** The entries of the endpoint's chains that were not {@code asked}, in chain order: all of them when none was. */
    private static ArrayNode notAsked(CallbackEndpoint<?, ?> endpoint, Set<String> asked) {
        ArrayNode notAsked = JsonNodeFactory.instance.arrayNode();
        endpoint.chains().values().stream().flatMap(java.util.List::stream).distinct()
                .filter(entry -> !asked.contains(entry)).forEach(notAsked::add);
        return notAsked;
    }
}
