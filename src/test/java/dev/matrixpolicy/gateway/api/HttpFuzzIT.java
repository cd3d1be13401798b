package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.api.MalformedHttp.Outcome;
import dev.matrixpolicy.gateway.api.MalformedHttp.Port;
import dev.matrixpolicy.gateway.api.MalformedHttp.Route;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.GatewayProcess;
import dev.matrixpolicy.gateway.support.Ports;
import dev.matrixpolicy.gateway.support.RawHttp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seeded corpus of malformed HTTP ({@link MalformedHttp}) against the packaged jar, as a pod
 * runs it, on all three of its ports: the policy API, the management port and the policy server's
 * federation port. Only built-in modules: a user_denylist, static answers, and an {@code http}
 * module whose backend does not listen, failing closed (which refuses with a 403, never a 503: so no
 * 5xx but 501 and 505 is allowed here at all). Every answer keeps docs/api.md's promises ({@link MalformedHttp#assertDocumented}),
 * every request gets one, and the jar's log has no ERROR line. About 15 s here, startup included;
 * the budget bounds the requests at 40 s.
 */
class HttpFuzzIT {
    private static final String TOKEN = "fuzz-token";
    private static final int REQUESTS = 3000;
    private static final Duration BUDGET = Duration.ofSeconds(40);
    private static final String EVENT = "{\"room_id\": \"!abcdefghijklmnop:example.com\", \"type\": \"m.room.message\", "
            + "\"sender\": \"@alice:example.com\", \"content\": {\"body\": \"hi\", \"msgtype\": \"m.text\"}, \"depth\": 3, "
            + "\"origin_server_ts\": 1700000000000, \"auth_events\": [], \"prev_events\": [], \"hashes\": {\"sha256\": \"x\"}}";

    @TempDir
    Path pod;

    @Test
    void malformedRequestsOnEveryPortOfTheJarGetOnlyDocumentedAnswersAndLogNoError() throws IOException {
        PolicyServerKey.generate(pod.resolve("policy_server.key"));
        int federationPort = Ports.unusedPort();
        Files.writeString(pod.resolve("application.yml"), """
                policy-gateway:
                  server-name: example.com
                  max-body-size: 8KB
                  admin:
                    token: %s
                  policy-server:
                    enabled: true
                    name: example.com
                    port: %d
                    key-file: policy_server.key
                    rooms:
                      - id: "!abcdefghijklmnop:example.com"
                        version: "10"
                  modules:
                    - module: user_denylist
                      name: denylist
                      config:
                        users: ["@spammer:example.com", "*:evil.example"]
                    - module: http
                      name: broken-closed
                      config:
                        url: http://127.0.0.1:%d
                        callbacks: [user_may_create_room, on_user_registration]
                        retries: 0
                        timeout: 200ms
                        connect-timeout: 200ms
                        failure-mode: fail-closed
                    - module: static
                      name: answers
                      config:
                        results:
                          check_event_for_spam: NOT_SPAM
                          check_registration_for_spam: ALLOW
                          check_media_file_for_spam: NOT_SPAM
                          check_login_for_spam: NOT_SPAM
                          check_event_allowed: true
                          on_create_room: ~
                          on_profile_update: ~
                          check_visibility_can_be_modified: true
                          is_user_expired: false
                          on_account_data_updated: ~
                          get_users_for_states: '{}'
                          add_field_to_unsigned: '{"org.example.a": 1}'
                          on_update: 100
                logging:
                  level:
                    # Every 503 writes a WARN decision line, every rejection an INFO one: thousands of them.
                    dev.matrixpolicy.gateway: ERROR
                """.formatted(MalformedHttp.ADMIN_TOKEN, federationPort, Ports.unusedPort()));

        try (GatewayProcess gateway = GatewayProcess.start(pod, TOKEN)) {
            List<Route> routes = new ArrayList<>(MalformedHttp.routes(gateway.apiPort(), path -> false));
            routes.addAll(federationRoutes());
            MalformedHttp corpus = new MalformedHttp(Gen.seeded(MalformedHttp.SEED), routes);

            Outcome outcome = corpus.fire(Map.of(Port.POLICY, gateway.apiPort(), Port.MANAGEMENT, gateway.managementPort(),
                    Port.FEDERATION, federationPort), REQUESTS, BUDGET);

            assertThat(RawHttp.send(federationPort, "GET /.well-known/matrix/policy_server HTTP/1.1\r\nHost: example.com\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII), false)).as("the policy server's port serves")
                    .singleElement().extracting(RawHttp.Response::status).isEqualTo(200);
            assertThat(gateway.logLines()).as("ERROR lines in the jar's log")
                    .noneMatch(line -> line.matches("^\\S+\\s+ERROR\\b.*"));
            assertThat(gateway.logLines()).as("stack traces in the jar's log")
                    .noneMatch(line -> line.startsWith("\tat ") || line.startsWith("Caused by:"));
            assertThat(outcome.unanswered()).as("requests closed without an answer, of %s sent; statuses %s", outcome.sent(),
                    outcome.statuses()).isEmpty();
        }
    }

    /** The policy server's routes: signing (stable and unstable), the legacy check, its discovery, and unknown paths. */
    private static List<Route> federationRoutes() {
        List<Route> routes = new ArrayList<>();
        for (String path : List.of("/_matrix/policy/v1/sign", "/_matrix/policy/unstable/org.matrix.msc4284/sign",
                "/_matrix/policy/unstable/org.matrix.msc4284/event/$abc:example.com/check")) {
            routes.add(new Route(Port.FEDERATION, path, EVENT, false));
        }
        for (String path : List.of("/.well-known/matrix/policy_server", "/_matrix/policy/v1/nothing", "/", "/error",
                "/_matrix/key/v2/server")) {
            routes.add(new Route(Port.FEDERATION, path, null, false));
        }
        return routes;
    }
}
