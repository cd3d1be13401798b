package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.RawHttp;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The management port's admin paths (reload, explain, decisions, the console) need the admin token,
 * as a Bearer token or as the password of HTTP Basic; without one configured they answer loopback
 * callers only, judged by the connection's peer address; so does any endpoint an admin exposes besides.
 * Health, metrics, Prometheus, chains, chainstats, info and the actuator's index are left alone.
 */
class AdminAccessEndToEndTest {
    static final String ADMIN_TOKEN = "admin-s3cret";

    @DynamicPropertySource
    static void rules(DynamicPropertyRegistry registry) {
        ConsoleGateway.rulesFile(registry);
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
            properties = {"management.server.port=0", "policy-gateway.admin.token=" + ADMIN_TOKEN})
    @ActiveProfiles(ConsoleGateway.PROFILE)
    class WithAnAdminToken {
        @RegisterExtension
        final ExpectedOutput output = ExpectedOutput.warnings("presented a wrong admin token", "presented a malformed Basic");

        @LocalManagementPort
        int managementPort;

        @BeforeEach
        void listsInForce() {
            ConsoleGateway.awaitReady(managementPort);
        }

        @LocalServerPort
        int port;

        @Test
        void bearerTokenOpensTheAdminEndpoints() {
            assertThat(new GatewayClient(managementPort, ADMIN_TOKEN).get("/actuator/decisions").status()).isEqualTo(200);
        }

        @Test
        void adminAnswersAreNeitherCachedNorSniffedRefusalsIncluded() {
            for (String token : new String[] {ADMIN_TOKEN, "wrong"}) {
                Answer answer = new GatewayClient(managementPort, token).get("/actuator/decisions");
                assertThat(answer.header("Cache-Control")).as(token).isEqualTo("no-store");
                assertThat(answer.header("X-Content-Type-Options")).as(token).isEqualTo("nosniff");
            }
        }

        @Test
        void aReloadABrowserPostsFromAnotherSiteWithACachedLoginIsRefused() {
            String reload = "POST /actuator/reload HTTP/1.1\r\nHost: localhost:" + managementPort + "\r\nConnection: close\r\n"
                    + "Authorization: Basic " + basic("admin:" + ADMIN_TOKEN) + "\r\nContent-Length: 0\r\n";

            RawHttp.Response crossSite = RawHttp.exchange(managementPort, reload + "Origin: https://evil.example\r\n\r\n");
            RawHttp.Response sandboxed = RawHttp.exchange(managementPort, reload + "Origin: null\r\n\r\n");
            RawHttp.Response sameSite = RawHttp.exchange(managementPort, reload + "Sec-Fetch-Site: same-site\r\n\r\n");
            // past the guard, the endpoint answers: decisions takes no POST
            RawHttp.Response console = RawHttp.exchange(managementPort, reload.replace("/actuator/reload", "/actuator/decisions")
                    + "Origin: http://localhost:" + managementPort + "\r\nSec-Fetch-Site: same-origin\r\n\r\n");

            assertThat(crossSite.status()).as(crossSite.body()).isEqualTo(403);
            assertThat(crossSite.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
            assertThat(sandboxed.status()).isEqualTo(403);
            assertThat(sameSite.status()).isEqualTo(403);
            assertThat(console.status()).as(console.body()).isEqualTo(405);
            // behind a proxy that rewrites Host, the browser's own word says it is the console's page
            RawHttp.Response proxied = RawHttp.exchange(managementPort, reload.replace("/actuator/reload", "/actuator/decisions")
                    + "Origin: https://admin.example.org\r\nSec-Fetch-Site: same-origin\r\n\r\n");
            assertThat(proxied.status()).as(proxied.body()).isEqualTo(405);
        }

        @Test
        void basicAuthWithTheTokenAsPasswordAndAnyUserOpensTheConsole() {
            Answer page = get("/console/", "Basic " + basic("anyone:" + ADMIN_TOKEN));

            assertThat(page.status()).isEqualTo(200);
            assertThat(page.contentType()).startsWith("text/html");
            assertThat(page.body()).contains("<title>policy-gateway admin</title>");
            assertThat(get("/console/console.js", "Basic " + basic(":" + ADMIN_TOKEN)).status()).isEqualTo(200);
        }

        @Test
        void aMissingTokenIs401WithABasicChallengeAndMatrixJson() {
            Answer refused = get("/actuator/decisions", null);

            assertThat(refused.status()).isEqualTo(401);
            assertThat(refused.header("WWW-Authenticate")).isEqualTo("Basic realm=\"policy-gateway admin\"");
            assertThat(refused.contentType()).startsWith("application/json");
            assertThat(refused.json().get("errcode").asString()).isEqualTo("M_MISSING_TOKEN");
        }

        @Test
        void aWrongTokenIs401ForEveryAdminPath() {
            for (String path : new String[] {"/actuator/decisions", "/actuator/sources", "/actuator/policylists",
                    "/actuator/policylists/match?entity=@x:example.com", "/actuator/reload", "/actuator/explain/spam_checker/user_may_invite",
                    "/console", "/console/", "/console/console.css"}) {
                Answer refused = get(path, "Bearer wrong");
                assertThat(refused.status()).as(path).isEqualTo(401);
                assertThat(refused.json().get("errcode").asString()).as(path).isEqualTo("M_UNKNOWN_TOKEN");
            }
            assertThat(get("/actuator/decisions", "Basic " + basic("admin:wrong")).status()).isEqualTo(401);
            assertThat(get("/actuator/decisions", "Basic not-base64!").status()).isEqualTo(401);
        }

        /** The guard judges the path the container routes by, so no spelling Spring MVC also routes gets past it. */
        @ParameterizedTest
        @ValueSource(strings = {"/actuator;a=b/reload", "/actuator/reload;jsessionid=x", "//actuator/reload", "/actuator/x/../reload",
            "/actuator/%72eload", "/actuator/./decisions", "/actuator/%2e/decisions", "http://localhost/actuator/reload",
            "/actuator/explain;x/spam_checker/user_may_invite", "/console;x/", "/console/./console.css"})
        void anAdminPathSpelledAnotherWayIsRefusedWithoutTheTokenOrRoutedNowhere(String target) {
            for (String method : List.of("GET", "POST")) {
                RawHttp.Response answer = RawHttp.exchange(managementPort, method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

                assertThat(answer.status()).as(method + " " + answer).isIn(401, 404);
                HttpEdgeEndToEndTest.assertMatrixError(answer, answer.status(), answer.status() == 401 ? "M_MISSING_TOKEN" : "M_UNRECOGNIZED");
            }
        }

        @Test
        void theHomeserversTokenIsNoAdminToken() {
            assertThat(get("/actuator/decisions", "Bearer " + ConsoleGateway.TOKEN).status()).isEqualTo(401);
        }

        @Test
        void theOtherActuatorEndpointsNeedNoToken() {
            for (String path : new String[] {"/actuator/health", "/actuator/chains", "/actuator/chainstats",
                    "/actuator/prometheus", "/actuator/info", "/actuator/metrics"}) {
                assertThat(get(path, null).status()).as(path).isEqualTo(200);
            }
        }

        @Test
        void healthDetailsAreTheAdminsEveryoneElseGetsTheStatuses() {
            for (String authorization : new String[] {null, "Bearer wrong", "Bearer " + ConsoleGateway.TOKEN}) {
                Answer health = get("/actuator/health", authorization);
                assertThat(health.status()).as(authorization).isEqualTo(200);
                assertThat(health.json().get("status").asString()).isEqualTo("UP");
                assertThat(health.json().at("/components/configReload/status").asString()).as(authorization).isEqualTo("UP");
                assertThat(health.json().at("/components/configReload/details").isMissingNode()).as(authorization).isTrue();
                assertThat(get("/actuator/health/configReload", authorization).json().has("details")).as(authorization).isFalse();
            }
            Answer admin = get("/actuator/health", "Bearer " + ADMIN_TOKEN);
            assertThat(admin.json().at("/components/configReload/details/generation").asInt()).isEqualTo(1);
            assertThat(admin.header("Cache-Control")).isEqualTo("no-store");
            assertThat(get("/actuator/health/configReload", "Basic " + basic("anyone:" + ADMIN_TOKEN)).json().has("details")).isTrue();
        }

        @Test
        void aBodyOfAnotherTypeIs415AndAnAcceptThatCannotBeMetIs406EachNamingWhatTheEndpointTakes() {
            GatewayClient client = new GatewayClient(managementPort, ADMIN_TOKEN);
            Answer form = client.send(client.authorized("/actuator/reload").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
            assertThat(form.status()).as(form.body()).isEqualTo(415);
            assertThat(form.contentType()).startsWith("application/json");
            assertThat(form.json().get("errcode").asString()).isEqualTo("M_NOT_JSON");
            assertThat(form.json().get("error").asString()).contains("application/x-www-form-urlencoded").contains("application/json");

            Answer metrics = client.send(client.authorized("/actuator/prometheus").header("Accept", "application/json").GET().build());
            assertThat(metrics.status()).isEqualTo(406);
            assertThat(metrics.json().get("error").asString()).contains("text/plain").doesNotContain("application/json only");
        }

        @ParameterizedTest
        @CsvSource({"POST, HTTP/1.0", "POST, HTTP/1.1", "PUT, HTTP/1.1", "DELETE, HTTP/1.1", "PATCH, HTTP/1.1"})
        void theConsoleRefusesAMethodOtherThanGetHeadOrOptionsWith405NamingTheOnesItTakes(String method, String version) {
            RawHttp.Response refused = RawHttp.exchange(managementPort, method + " /console/ " + version + "\r\nHost: localhost\r\n"
                    + "Connection: close\r\nAuthorization: Bearer " + ADMIN_TOKEN + "\r\nContent-Length: 0\r\n\r\n");

            assertThat(refused.status()).as(refused.body()).isEqualTo(405);
            assertThat(refused.header("Allow")).hasValue("GET, HEAD, OPTIONS");
            assertThat(refused.json().get("errcode").asString()).isEqualTo("M_UNRECOGNIZED");
            assertThat(refused.json().get("error").asString()).contains(method);
        }

        @Test
        void theConsoleAnswersOptionsWithTheMethodsItTakes() {
            RawHttp.Response options = RawHttp.exchange(managementPort, "OPTIONS /console/ HTTP/1.1\r\nHost: localhost\r\n"
                    + "Connection: close\r\nAuthorization: Bearer " + ADMIN_TOKEN + "\r\n\r\n");

            assertThat(options.status()).as(options.body()).isEqualTo(200);
            assertThat(options.header("Allow")).hasValue("GET, HEAD, OPTIONS");
        }

        @Test
        void theRedirectToTheConsolesDirectoryIsRelativeSoAProxysSchemeHostAndPrefixAreKept() {
            // as a TLS-terminating proxy that serves the console under /gateway/ hands the request on
            RawHttp.Response redirect = RawHttp.exchange(managementPort, "GET /console HTTP/1.1\r\nHost: internal:8091\r\n"
                    + "Connection: close\r\nAuthorization: Bearer " + ADMIN_TOKEN + "\r\n\r\n");

            assertThat(redirect.status()).isEqualTo(302);
            assertThat(redirect.header("Location")).as("resolved by the browser against https://admin.example.org/gateway/console")
                    .hasValue("console/");
        }

        @Test
        void thePolicyPortServesNoConsole() {
            Answer answer = new GatewayClient(port, ConsoleGateway.TOKEN).get("/console/");

            assertThat(answer.status()).isEqualTo(404);
        }

        private Answer get(String path, String authorization) {
            GatewayClient client = new GatewayClient(managementPort, null);
            java.net.http.HttpRequest.Builder request = client.request(path).GET();
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            return client.send(request.build());
        }
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
    @ActiveProfiles(ConsoleGateway.PROFILE)
    class WithoutAnAdminToken {
        @LocalManagementPort
        int managementPort;

        @BeforeEach
        void listsInForce() {
            ConsoleGateway.awaitReady(managementPort);
        }

        @Test
        void loopbackCallersAreAnsweredWithoutCredentials() {
            GatewayClient management = new GatewayClient(managementPort, null);

            assertThat(management.get("/actuator/decisions").status()).isEqualTo(200);
            assertThat(management.get("/console").status()).as("redirected to /console/, followed by nobody").isEqualTo(302);
            assertThat(java.net.URI.create("http://localhost:" + managementPort + "/console")
                    .resolve(management.get("/console").header("Location")).getPath())
                    .as("the console's directory, on this host").isEqualTo("/console/");
            assertThat(management.get("/console/").status()).isEqualTo(200);
        }

        @Test
        void callersFromAnotherAddressAreRefusedWhateverTheirForwardedForHeaderClaims() {
            Optional<InetAddress> otherAddress = LoopbackOnlyEndToEndTest.nonLoopbackAddress();
            assumeTrue(otherAddress.isPresent(), "this machine has a network address other than loopback");

            RawHttp.Response refused = RawHttp.exchange(otherAddress.get(), managementPort,
                    "GET /actuator/decisions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n");
            RawHttp.Response health = RawHttp.exchange(otherAddress.get(), managementPort,
                    "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertThat(refused.status()).isEqualTo(403);
            assertThat(GatewayClient.json(refused.body()).get("errcode").asString()).isEqualTo("M_FORBIDDEN");
            assertThat(health.status()).isEqualTo(200);
            assertThat(GatewayClient.json(health.body()).has("components")).isTrue();
            assertThat(GatewayClient.json(health.body()).at("/components/configReload/details").isMissingNode())
                    .as("details are for loopback callers when there is no admin token").isTrue();
        }

        @Test
        void loopbackCallersGetTheHealthDetails() {
            Answer health = new GatewayClient(managementPort, null).get("/actuator/health/configReload");

            assertThat(health.json().at("/details/generation").asInt()).isEqualTo(1);
        }
    }

    private static String basic(String credentials) {
        return Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }

    /** An admin who exposes every endpoint Spring Boot has: env and configprops name settings, loggers changes levels. */
    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
            properties = {"management.server.port=0", "policy-gateway.admin.token=" + ADMIN_TOKEN,
                    "management.endpoints.web.exposure.include=*", "management.endpoints.web.path-mapping.env=environment"})
    @ActiveProfiles(ConsoleGateway.PROFILE)
    class WithEveryEndpointExposed {
        @LocalManagementPort
        int managementPort;

        @BeforeEach
        void listsInForce() {
            ConsoleGateway.awaitReady(managementPort);
        }

        @Test
        void anEndpointExposedBesidesTheGatewaysNeedsTheAdminTokenWhileTheOpenOnesStayOpen() {
            GatewayClient anonymous = new GatewayClient(managementPort, null);
            for (String path : new String[] {"/actuator/environment", "/actuator/environment/server.port", "/actuator/loggers",
                    "/actuator/loggers/ROOT", "/actuator/threaddump", "/actuator/configprops", "/actuator/beans", "/actuator/mappings",
                    "/actuator/conditions", "/actuator/scheduledtasks", "/actuator/sbom"}) {
                Answer refused = anonymous.get(path);
                assertThat(refused.status()).as(path).isEqualTo(401);
                assertThat(refused.json().get("errcode").asString()).as(path).isEqualTo("M_MISSING_TOKEN");
            }
            assertThat(new GatewayClient(managementPort, ADMIN_TOKEN).get("/actuator/loggers").status()).isEqualTo(200);
            for (String path : new String[] {"/actuator/health", "/actuator/chains", "/actuator/chainstats",
                    "/actuator/prometheus", "/actuator/info", "/actuator/metrics", "/actuator"}) {
                assertThat(anonymous.get(path).status()).as(path).isEqualTo(200);
            }
        }
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
            properties = {"management.server.port=0", "policy-gateway.admin.token=" + ADMIN_TOKEN,
                    "management.endpoints.web.path-mapping.policy-lists=lists", "management.endpoints.web.path-mapping.reload=/re-read/",
                    "management.endpoints.web.path-mapping.sources="})
    @ActiveProfiles(ConsoleGateway.PROFILE)
    class WithEndpointsMovedByPathMapping {
        @LocalManagementPort
        int managementPort;

        @Test
        void anAdminEndpointUnderAnotherPathStillNeedsTheToken() {
            GatewayClient anonymous = new GatewayClient(managementPort, null);

            assertThat(anonymous.get("/actuator/lists").status()).isEqualTo(401);
            assertThat(anonymous.get("/actuator/lists/match?entity=@x:example.com").status()).isEqualTo(401);
            assertThat(anonymous.get("/actuator/re-read").status()).isEqualTo(401);
            assertThat(anonymous.get("/actuator/sources").status()).as("a blank mapping is no mapping").isEqualTo(401);
            assertThat(new GatewayClient(managementPort, ADMIN_TOKEN).get("/actuator/lists").status()).isEqualTo(200);
        }

        @Test
        void theConsoleIsToldWhereEachEndpointItReadsIsServedSoAMovedOneStillAnswersIt() {
            GatewayClient admin = new GatewayClient(managementPort, ADMIN_TOKEN);
            Answer served = admin.get("/console/endpoints.json");

            assertThat(served.status()).as(served.body()).isEqualTo(200);
            assertThat(served.json().get("reload").asString()).isEqualTo("../actuator/re-read");
            java.net.URI page = java.net.URI.create("http://localhost:" + managementPort + "/console/");
            assertThat(served.json().propertyNames()).containsExactlyInAnyOrder("chains", "chainstats", "decisions", "sources",
                    "reload", "explain");
            for (String endpoint : served.json().propertyNames()) {
                String path = page.resolve(served.json().get(endpoint).asString()).getPath();
                assertThat(admin.get(path).status()).as(endpoint + " at " + path).isEqualTo(200);
            }
        }
    }
}
