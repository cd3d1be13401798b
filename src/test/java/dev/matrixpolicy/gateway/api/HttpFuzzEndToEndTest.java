package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.api.MalformedHttp.Port;
import dev.matrixpolicy.gateway.api.MalformedHttp.Probe;
import dev.matrixpolicy.gateway.api.MalformedHttp.Route;
import dev.matrixpolicy.gateway.support.CallbackRequests;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.RawHttp;
import dev.matrixpolicy.gateway.support.RawHttp.Response;
import dev.matrixpolicy.gateway.support.Warnings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;

/**
 * A seeded corpus of malformed HTTP ({@link MalformedHttp}) sent over raw sockets to the running
 * gateway, so Tomcat's own parser meets it too, on every route: each callback that discovery lists,
 * the discovery documents, {@code is_evil}, unknown paths, and the actuator on the management port.
 * Each answer must keep the promises of the Errors section of docs/api.md: no 5xx but the 503 of a module
 * that fails closed and the 501/505 HTTP prescribes; every error JSON, Matrix-shaped on the policy
 * port (but the token's plain-text 401); no Java class, library or server name anywhere; and no
 * ERROR line in the log. 4,000 requests take about 7 s here, the budget bounds them at 40 s.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("fuzz")
class HttpFuzzEndToEndTest {
    private static final long SEED = 20261201L;
    private static final int REQUESTS = 4000;
    private static final Duration BUDGET = Duration.ofSeconds(40);
    private static final String TOKEN_REFUSED = "Missing or invalid bearer token\n";
    /** Qualified Java names, library and option names, the server's: none is any business of the caller. */
    private static final Pattern INTERNALS = Pattern.compile(
            "\\b(?:java|javax|jakarta|sun|org\\.apache|org\\.springframework|tools\\.jackson|com\\.fasterxml|ch\\.qos)\\.[a-z]"
                    + "|Exception|Jackson|JsonToken|DeserializationFeature|StreamReadConstraints|JsonReadFeature|Tomcat|Coyote"
                    + "|<html|\\tat ");

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @RegisterExtension
    final Warnings warnings = new Warnings();

    @Test
    void malformedRequestsGetOnlyDocumentedAnswersAndLogNoError() {
        MalformedHttp corpus = new MalformedHttp(Gen.seeded(SEED), routes());
        long started = System.nanoTime();
        Map<Integer, Integer> statuses = new TreeMap<>();
        int sent = 0;
        int unanswered = 0;
        for (; sent < REQUESTS && System.nanoTime() - started < BUDGET.toNanos(); sent++) {
            Probe probe = corpus.next();
            List<Response> answers = send(probe);
            if (answers.isEmpty()) {
                unanswered++;
            }
            for (Response answer : answers) {
                statuses.merge(answer.status(), 1, Integer::sum);
                assertDocumented(probe, answer);
            }
        }

        assertThat(warnings.lines()).as("ERROR lines").noneMatch(line -> line.startsWith("ERROR"));
        assertThat(unanswered).as("requests closed without an answer, of %s sent; statuses %s", sent, statuses)
                .isLessThan(sent / 20);
    }

    private List<Response> send(Probe probe) {
        try {
            return RawHttp.send(probe.route().port() == Port.POLICY ? port : managementPort, probe.bytes(), probe.head());
        } catch (IllegalStateException unparsable) {
            throw new AssertionError("Not HTTP: the answer to " + probe, unparsable);
        }
    }

    private static void assertDocumented(Probe probe, Response answer) {
        String what = probe + "\n-> " + answer;
        int status = answer.status();
        if (status == RawHttp.HTTP_0_9) {
            // Tomcat still speaks HTTP/0.9 to a request line with no version ("POST  HTTP/1.1" reads as
            // target "HTTP/1.1"): no status line, no headers, the body alone.
            assertThat(INTERNALS.matcher(answer.body()).find()).as("no internals in the body: " + what).isFalse();
            // Whether it is an error shows only in the body: the token's refusal, or JSON with an errcode.
            if (answer.body().startsWith("{\"error")) {
                assertThat(json(answer, what).path("errcode").asString("")).as(what).startsWith("M_");
            }
            return;
        }
        assertThat(status < 500 || status == 501 || status == 505
                || status == 503 && probe.route().failsClosed()).as("a status docs/api.md documents: " + what).isTrue();
        assertThat(answer.header("Server")).as("no Server header: " + what).isEmpty();
        assertThat(INTERNALS.matcher(answer.body()).find()).as("no internals in the body: " + what).isFalse();
        assertThat(INTERNALS.matcher(answer.headers().toString()).find()).as("no internals in the headers: " + what).isFalse();
        if (status < 400 || answer.body().isEmpty() && probe.head()) {
            return;
        }
        if (status == 401 && probe.route().port() == Port.POLICY) {
            // The token's refusal is plain text on purpose (docs/configuration.md, Authentication).
            assertThat(answer.body()).as(what).isEqualTo(TOKEN_REFUSED);
            return;
        }
        assertThat(answer.header("Content-Type")).as("JSON: " + what)
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        JsonNode json = json(answer, what);
        if (probe.route().port() == Port.POLICY || json.has("errcode")) {
            assertThat(json.path("errcode").asString("")).as("errcode: " + what).startsWith("M_");
            assertThat(json.path("error").asString("")).as("error: " + what).isNotBlank();
        }
    }

    private static JsonNode json(Response answer, String what) {
        try {
            return GatewayClient.json(answer.body());
        } catch (RuntimeException notJson) {
            throw new AssertionError("Not JSON: " + what, notJson);
        }
    }

    /** Every route the gateway has, each with a valid body where it takes one. */
    private List<Route> routes() {
        Map<String, String> samples = CallbackRequests.everyCallback()
                .collect(Collectors.toMap(arguments -> "/v1/" + arguments.get()[0], arguments -> (String) arguments.get()[1]));
        GatewayClient gateway = new GatewayClient(port, "fuzz-token");
        List<Route> routes = new ArrayList<>();
        for (JsonNode callback : gateway.get("/v1/callbacks").json().get("callbacks").values()) {
            String path = "/v1/" + callback.get("category").asString() + "/" + callback.get("callback").asString();
            boolean failsClosed = path.endsWith("/user_may_create_room") || path.endsWith("/on_user_registration");
            routes.add(new Route(Port.POLICY, path, samples.get(path), failsClosed));
        }
        assertThat(routes).as("discovered callbacks").hasSizeGreaterThan(10);
        routes.add(new Route(Port.POLICY, "/v1/spam_checker/user_may_invite_not", "{}", false));
        routes.add(new Route(Port.POLICY, "/v1/third_party_rules/on_logged_out", samples.get("/v1/password_auth_provider/on_logged_out"), false));
        for (String path : List.of("/v1/callbacks", "/v1/password_auth_provider/auth_checkers",
                "/v1/modules/denylist/is_evil?user=@spammer:example.com", "/v1/modules/denylist/is_evil?user=@bob:example.com",
                "/v1/modules/answers/is_evil?user=@a:b", "/v1/modules/nothing/is_evil", "/v1/modules/denylist/is_evil",
                "/v1", "/", "/error", "/actuator/health")) {
            routes.add(new Route(Port.POLICY, path, null, false));
        }
        routes.add(new Route(Port.POLICY, "/v1/spam_checker/ping", "{\"id\": \"fuzz\"}", false));
        for (String path : List.of("/actuator", "/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness",
                "/actuator/info", "/actuator/prometheus", "/actuator/metrics", "/actuator/metrics/jvm.threads.live",
                "/actuator/metrics/jvm.threads.live?tag=nocolon", "/actuator/metrics/nothing", "/actuator/chains",
                "/actuator/nothing", "/error", "/", "/v1/callbacks")) {
            routes.add(new Route(Port.MANAGEMENT, path, null, false));
        }
        return List.copyOf(routes);
    }
}
