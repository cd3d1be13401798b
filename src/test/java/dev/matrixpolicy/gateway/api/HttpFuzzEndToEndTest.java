package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.api.MalformedHttp.Outcome;
import dev.matrixpolicy.gateway.api.MalformedHttp.Port;
import dev.matrixpolicy.gateway.api.MalformedHttp.Route;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.Warnings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/**
 * The seeded corpus of malformed HTTP ({@link MalformedHttp}) sent over raw sockets to the gateway
 * running in process, so that Tomcat's own parser meets it too, on every route of the policy and
 * management ports (the admin paths with the admin token); each answer must keep the promises of docs/api.md's Errors section
 * ({@link MalformedHttp#assertDocumented}), every request must get an answer, the log no WARN or
 * ERROR line, and the policy API's budget for bodies nothing once all are answered. It runs in the
 * unit suite, with a module of the tests that throws (application-fuzz.yml);
 * {@link HttpFuzzIT} sends the same corpus to the packaged jar, its policy server's port included.
 * 4,000 requests take about 7 s here, the budget bounds them at 40 s.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.server.port=0", "policy-gateway.admin.token=" + MalformedHttp.ADMIN_TOKEN})
@ActiveProfiles("fuzz")
class HttpFuzzEndToEndTest {
    /** The WARN line of each request sent here without the token, kept off the console. */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of(BearerTokenFilter.class, Level.DEBUG);

    /** The WARN line of each request sent to an admin path with a wrong admin token. */
    @RegisterExtension
    final LoggedLines adminRefusals = LoggedLines.of(AdminAccessFilter.class, Level.DEBUG);

    private static final int REQUESTS = 4000;
    /** The callbacks where a module of application-fuzz.yml fails closed, answering 503. */
    private static final Predicate<String> FAILS_CLOSED = path -> path.endsWith("/user_may_create_room")
            || path.endsWith("/on_user_registration");
    private static final Duration BUDGET = Duration.ofSeconds(40);

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @RegisterExtension
    final Warnings warnings = new Warnings();

    @Test
    void malformedRequestsGetOnlyDocumentedAnswersLogNoErrorAndGiveBackWhatTheirBodiesHeld() throws InterruptedException {
        MalformedHttp corpus = new MalformedHttp(Gen.seeded(MalformedHttp.SEED), MalformedHttp.routes(port, FAILS_CLOSED));

        Outcome outcome = corpus.fire(Map.of(Port.POLICY, port, Port.MANAGEMENT, managementPort), REQUESTS, BUDGET);

        assertThat(warnings.lines()).as("WARN and ERROR lines: docs/api.md promises none for a caller's mistake").isEmpty();
        assertThat(outcome.unanswered()).as("requests closed without an answer, of %s sent; statuses %s", outcome.sent(),
                outcome.statuses()).isEmpty();
        // however each request ended (cut short, broken chunks, a lying length, refused), its body's share came back
        PolicyApiBodyMemoryEndToEndTest.awaitHeld(RequestBodyReader.Budget.POLICY_API::held, 0);
    }

    /**
     * Bodies with names of half a surrogate pair at every depth, faults and all ({@link HalfPairBodies}),
     * sent to every callback of the policy API and to explain: each is answered as its twin with ordinary
     * names, the same status and JSON, each half as 'A' (a refusal names the same byte offset), never
     * with a 5xx but the 503 of the module that fails closed.
     */
    @Test
    void bodiesWithNamesOfHalfASurrogatePairAreAnsweredAsTheSameBodiesWithOrdinaryNames() {
        List<Route> routes = MalformedHttp.routes(port, FAILS_CLOSED).stream()
                .filter(route -> route.validBody() != null && (route.port() == Port.POLICY || route.path().startsWith("/actuator/explain/")))
                .toList();
        Map<Port, GatewayClient> clients = Map.of(Port.POLICY, new GatewayClient(port, MalformedHttp.TOKEN),
                Port.MANAGEMENT, new GatewayClient(managementPort, MalformedHttp.ADMIN_TOKEN));
        Gen gen = Gen.seeded(MalformedHttp.SEED);
        HalfPairBodies bodies = new HalfPairBodies(gen);

        for (int i = 0; i < HALF_PAIR_BODIES; i++) {
            Route route = gen.oneOf(routes);
            HalfPairBodies.Twins twins = bodies.next(route.validBody());
            Answer read = clients.get(route.port()).post(route.path(), twins.half());
            Answer asTwin = clients.get(route.port()).post(route.path(), twins.twin());

            assertThat(read.status()).as("%s %s\n-> %s", route.path(), twins, read.body()).isEqualTo(asTwin.status());
            assertThat(read.status() < 500 || read.status() == 503 && route.failsClosed())
                    .as("%s %s\n-> %s", route.path(), twins, read.body()).isTrue();
            assertThat(halvesAsA(read.body())).as("%s %s", route.path(), twins).isEqualTo(halvesAsA(asTwin.body()));
        }
        assertThat(warnings.lines()).as("WARN and ERROR lines").isEmpty();
    }

    private static final int HALF_PAIR_BODIES = 600;
    private static final Pattern HALF = Pattern.compile("[\\ud800-\\udfff]");
    private static final Pattern TIMING = Pattern.compile("\"micros\":[0-9.eE+-]+");

    /** An answer's JSON as text with each half of a pair as 'A', and explain's timings as 0; any other answer as it is. */
    private static String halvesAsA(String answer) {
        String text;
        try {
            text = GatewayClient.json(answer).toString();
        } catch (RuntimeException notJson) {
            text = answer;
        }
        return TIMING.matcher(HALF.matcher(text).replaceAll("A")).replaceAll("\"micros\":0");
    }
}
