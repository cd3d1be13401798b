package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.api.MalformedHttp.Outcome;
import dev.matrixpolicy.gateway.api.MalformedHttp.Port;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.Warnings;
import java.time.Duration;
import java.util.Map;
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
 * ({@link MalformedHttp#assertDocumented}), every request must get an answer, and the log no WARN or
 * ERROR line. It runs in the unit suite, with a module of the tests that throws (application-fuzz.yml);
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
    private static final Duration BUDGET = Duration.ofSeconds(40);

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @RegisterExtension
    final Warnings warnings = new Warnings();

    @Test
    void malformedRequestsGetOnlyDocumentedAnswersAndLogNoError() {
        MalformedHttp corpus = new MalformedHttp(Gen.seeded(MalformedHttp.SEED), MalformedHttp.routes(port,
                path -> path.endsWith("/user_may_create_room") || path.endsWith("/on_user_registration")));

        Outcome outcome = corpus.fire(Map.of(Port.POLICY, port, Port.MANAGEMENT, managementPort), REQUESTS, BUDGET);

        assertThat(warnings.lines()).as("WARN and ERROR lines: docs/api.md promises none for a caller's mistake").isEmpty();
        assertThat(outcome.unanswered()).as("requests closed without an answer, of %s sent; statuses %s", outcome.sent(),
                outcome.statuses()).isEmpty();
    }
}
