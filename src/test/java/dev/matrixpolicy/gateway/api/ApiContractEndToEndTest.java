package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.RawHttp;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.sym.ByteQuadsCanonicalizer;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP contract around the callbacks: the synapse-http-antispam wire format, authentication,
 * discovery, every bad-input case, and what admins see on the management port.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("e2e")
class ApiContractEndToEndTest {
    /** The WARN of each refused request, kept off the console (and read by the tests about refusals). */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of(BearerTokenFilter.class, Level.DEBUG);

    private static final String INVITE = """
            {"inviter": "@alice:example.com", "invitee": "@bob:example.org", "room_id": "!room:example.com"}""";

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @Autowired
    ServletWebServerApplicationContext webServer;

    @Autowired
    JsonMapper springJson;

    GatewayClient gateway;

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "e2e-secret-token");
    }

    @Nested
    class SynapseHttpAntispamContract {

        @Test
        void rejectionIs403WithMatrixErrcodeAndHumanMessage() {
            Answer answer = gateway.post("/v1/spam_checker/user_may_invite", INVITE);

            assertThat(answer.status()).isEqualTo(403);
            assertThat(answer.contentType()).startsWith("application/json");
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
            assertThat(answer.json().get("error").asString()).isEqualTo("Refused by decide");
        }

        @Test
        void pingEchoesTheIdWithStatusOk() {
            Answer answer = gateway.post("/v1/spam_checker/ping", "{\"id\": \"abc-123\"}");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"id\": \"abc-123\", \"status\": \"ok\"}"));
        }

        @Test
        void pingEchoesAnIdNamedWithHalfASurrogatePairAsTheEscapesSent() {
            // Python's JSON reads such a name; UTF-8 has no form for it, so it is written back as an escape
            Answer answer = gateway.post("/v1/spam_checker/ping", "{\"id\": {\"\\udc00\": [\"\\ud800\"]}}");

            assertThat(answer.status()).as(answer.body()).isEqualTo(200);
            assertThat(answer.body()).isEqualToIgnoringCase("{\"id\":{\"\\udc00\":[\"\\ud800\"]},\"status\":\"ok\"}");
        }

        @ParameterizedTest
        @ValueSource(strings = {"1e400", "-1e400", "1e-400", "9.99999999999999999999999999999e307", "123456789012345678901234567890"})
        void pingEchoesANumericIdAsTheNumberSent(String id) {
            Answer answer = gateway.post("/v1/spam_checker/ping", "{\"id\": " + id + "}");

            assertThat(answer.status()).isEqualTo(200);
            String echoed = answer.body().replaceFirst("^\\{\"id\":([^,]*),.*$", "$1"); // as written, not as a double reads it
            assertThat(new BigDecimal(echoed)).isEqualByComparingTo(new BigDecimal(id));
        }

        @Test
        void checkEventForSpamTakesTheClientFormatEventUnderEvent() {
            Answer answer = gateway.post("/v1/spam_checker/check_event_for_spam", "{\"event\": {\"type\": \"m.room.message\"}}");

            assertThat(answer.status()).isEqualTo(400);
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_MISSING_PARAM");
            assertThat(answer.json().get("error").asString()).contains("event.event_id");
        }
    }

    @Nested
    class Authentication {

        @Test
        void missingTokenIs401WithPlainTextBody() {
            Answer answer = gateway.send(gateway.request("/v1/spam_checker/user_may_invite")
                    .POST(HttpRequest.BodyPublishers.ofString(INVITE)).build());

            assertThat(answer.status()).isEqualTo(401);
            assertThat(answer.contentType()).startsWith("text/plain");
            assertThat(answer.body()).doesNotContain("errcode").doesNotContain("M_UNKNOWN_TOKEN");
        }

        @Test
        void wrongTokenIs401WithPlainTextBodyAndALogLineNamingTheCaller() {
            Answer answer = new GatewayClient(port, "e2e-secret-tokeN").post("/v1/spam_checker/user_may_invite", INVITE);

            assertThat(answer.status()).isEqualTo(401);
            assertThat(answer.contentType()).startsWith("text/plain");
            assertThat(refusals.all()).as("a WARN, or a DEBUG within 10 s of one from this address")
                    .singleElement().asString()
                    .contains("from 127.0.0.1 to \"/v1/spam_checker/user_may_invite\" presented a wrong bearer token")
                    .doesNotContain("tokeN");
        }

        @Test
        void twoAuthorizationHeadersAreRefusedWhicheverHoldsTheToken() {
            for (List<String> headers : List.of(List.of("Bearer e2e-secret-token", "Bearer nope"),
                    List.of("Bearer nope", "Bearer e2e-secret-token"))) {
                HttpRequest.Builder request = gateway.request("/v1/spam_checker/user_may_invite")
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(INVITE));
                headers.forEach(value -> request.header("Authorization", value));

                assertThat(gateway.send(request.build()).status()).as(headers.toString()).isEqualTo(401);
            }
        }

        @Test
        void tokenOfADifferentLengthIsRefusedToo() {
            Answer answer = new GatewayClient(port, "x").post("/v1/spam_checker/user_may_invite", INVITE);

            assertThat(answer.status()).isEqualTo(401);
        }

        @Test
        void discoveryNeedsTheTokenToo() {
            assertThat(new GatewayClient(port, null).get("/v1/callbacks").status()).isEqualTo(401);
        }

        /** Tomcat routes each of these to the policy API as its /v1/... path. */
        @ParameterizedTest
        @ValueSource(strings = {"/v1;x=y/spam_checker/user_may_invite", "/%761/spam_checker/user_may_invite",
                "//v1/spam_checker/user_may_invite", "/x/../v1/spam_checker/user_may_invite", "/v1/./spam_checker/user_may_invite"})
        void pathsSpelledDifferentlyStillNeedTheToken(String path) {
            Answer answer = new GatewayClient(port, null).post(path, INVITE);

            assertThat(answer.status()).as(answer.body()).isEqualTo(401);
        }

        @Test
        void moduleEndpointsUnderV1SpelledDifferentlyStillNeedTheToken() {
            assertThat(new GatewayClient(port, null).get("/v1;x=y/modules/anyone/is_evil?user_id=@a:example.com").status())
                    .isEqualTo(401);
        }
    }

    @Nested
    class Discovery {

        @Test
        void callbacksListsOnlyCallbacksWithModulesAndTheirCategory() {
            Answer answer = gateway.get("/v1/callbacks");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.json().get("callbacks").values())
                    .contains(GatewayClient.json("{\"category\": \"spam_checker\", \"callback\": \"user_may_invite\"}"))
                    .contains(GatewayClient.json("{\"category\": \"password_auth_provider\", \"callback\": \"check_auth\"}"))
                    .contains(GatewayClient.json("{\"category\": \"spam_checker\", \"callback\": \"user_may_send_state_event\"}"))
                    .contains(GatewayClient.json("{\"category\": \"spam_checker\", \"callback\": \"federated_user_may_invite\"}"))
                    .doesNotContain(GatewayClient.json(
                            "{\"category\": \"background_update_controller\", \"callback\": \"default_batch_size\"}"))
                    .contains(GatewayClient.json("{\"category\": \"media_repository\", \"callback\": \"get_media_upload_limits_for_user\"}"))
                    .contains(GatewayClient.json("{\"category\": \"ratelimit\", \"callback\": \"get_ratelimit_override_for_user\"}"))
                    .hasSize(46);
        }

        @Test
        void callbacksAnnouncesTheRequestBodyLimitSoAShimCanKeepItsRequestsUnderIt() {
            assertThat(gateway.get("/v1/callbacks").json().get("max_body_size").asLong()).isEqualTo(8 * 1024); // the e2e profile's

            assertThat(gateway.post("/v1/spam_checker/user_may_invite", "{\"pad\": \"" + "x".repeat(8 * 1024) + "\"}").status())
                    .isEqualTo(413);
        }

        @Test
        void discoveryAnswersHeadWithItsLengthAndNoBody() {
            Answer get = gateway.get("/v1/callbacks");
            Answer head = gateway.send(gateway.authorized("/v1/callbacks").HEAD().build());

            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentType()).startsWith("application/json");
            assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(get.body().length()));
            assertThat(head.body()).isEmpty();
        }

        @Test
        void optionsNamesTheAllowedMethods() {
            Answer callback = gateway.send(gateway.authorized("/v1/spam_checker/user_may_invite")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
            Answer discovery = gateway.send(gateway.authorized("/v1/callbacks").method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());

            assertThat(callback.status()).isEqualTo(200);
            assertThat(callback.header("Allow")).isEqualTo("POST, OPTIONS");
            assertThat(discovery.status()).isEqualTo(200);
            assertThat(discovery.header("Allow")).isEqualTo("GET, HEAD, OPTIONS");
        }

        @Test
        void authCheckersListsLoginTypesWithTheirFields() {
            Answer answer = gateway.get("/v1/password_auth_provider/auth_checkers");

            assertThat(answer.json()).isEqualTo(GatewayClient.json("""
                    {"auth_checkers": [{"login_type": "m.login.password", "fields": ["password"]},
                                       {"login_type": "org.example.pin", "fields": ["pin"]}]}"""));
        }

        @Test
        void authCheckersAreAskedInOrderUntilOneAnswersAUserId() {
            String login = "{\"user\": \"@alice:example.com\", \"login_type\": \"m.login.password\", \"login_dict\": {\"password\": \"wonderland\"}}";

            assertThat(gateway.post("/v1/password_auth_provider/check_auth", login).json().get("result").asString())
                    .isEqualTo("@alice:example.com");
        }

        @Test
        void wrongPasswordFailsAuthenticationWithNull() {
            String login = "{\"user\": \"alice\", \"login_type\": \"m.login.password\", \"login_dict\": {\"password\": \"nope\"}}";

            assertThat(gateway.post("/v1/password_auth_provider/check_auth", login).json())
                    .isEqualTo(GatewayClient.json("{\"result\": null}"));
        }

        @Test
        void loginWithoutTheFieldsItsTypeDeclaresIsMissingParam() {
            String login = "{\"user\": \"alice\", \"login_type\": \"org.example.pin\", \"login_dict\": {\"password\": \"1234\"}}";
            Answer answer = gateway.post("/v1/password_auth_provider/check_auth", login);

            assertThat(answer.status()).isEqualTo(400);
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_MISSING_PARAM");
            assertThat(answer.json().get("error").asString()).contains("login_dict.pin");
        }
    }

    @Nested
    class BadInput {

        @Test
        void malformedJsonIsNotJson() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_invite", "{\"inviter\": "), 400, "M_NOT_JSON");
        }

        @Test
        void jsonThatIsNotAnObjectIsNotJson() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_invite", "[1, 2]"), 400, "M_NOT_JSON");
        }

        @Test
        void emptyBodyIsNotJson() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_invite", ""), 400, "M_NOT_JSON");
        }

        @Test
        void missingFieldIsMissingParamNamingTheField() {
            Answer answer = gateway.post("/v1/spam_checker/user_may_invite", "{\"inviter\": \"@alice:example.com\", \"room_id\": \"!r:example.com\"}");

            assertErrcode(answer, 400, "M_MISSING_PARAM");
            assertThat(answer.json().get("error").asString()).contains("invitee");
        }

        @Test
        void nullForARequiredFieldIsMissingParam() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": null}"), 400, "M_MISSING_PARAM");
        }

        @Test
        void wrongTypeIsInvalidParam() {
            Answer answer = gateway.post("/v1/spam_checker/user_may_join_room",
                    "{\"user\": \"@alice:example.com\", \"room\": \"!r:example.com\", \"is_invited\": \"yes\"}");

            assertErrcode(answer, 400, "M_INVALID_PARAM");
            assertThat(answer.json().get("error").asString()).contains("is_invited");
        }

        @Test
        void invalidUserIdIsInvalidParam() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"alice\"}"), 400, "M_INVALID_PARAM");
        }

        @Test
        void invalidRoomAliasIsInvalidParam() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_create_room_alias",
                    "{\"user_id\": \"@alice:example.com\", \"room_alias\": \"lobby\"}"), 400, "M_INVALID_PARAM");
        }

        @Test
        void invalidEventIdIsInvalidParam() {
            assertErrcode(gateway.post("/v1/spam_checker/check_event_for_spam", """
                    {"event": {"event_id": "no-dollar", "sender": "@a:example.com", "room_id": "!r:example.com", "type": "m.room.message"}}"""),
                    400, "M_INVALID_PARAM");
        }

        @Test
        void roomVersion12RoomIdsWithoutServerNameAreAccepted() {
            Answer answer = gateway.post("/v1/spam_checker/user_may_publish_room",
                    "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!" + "A".repeat(43) + "\"}");

            assertThat(answer.status()).isEqualTo(403);
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        }

        @Test
        void checkCanShutdownRoomAcceptsANullUserIdAsNewerSynapseSends() {
            Answer answer = gateway.post("/v1/third_party_rules/check_can_shutdown_room",
                    "{\"user_id\": null, \"room_id\": \"!room:example.com\"}");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": false}"));
        }

        @Test
        void onUserLoginAcceptsANullLoginTypeAsSynapsesCodeMayPass() {
            Answer answer = gateway.post("/v1/account_validity/on_user_login",
                    "{\"user_id\": \"@alice:example.com\", \"auth_provider_type\": null, \"auth_provider_id\": null}");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        }

        @Test
        void bodyOverTheLimitIsTooLarge() {
            String huge = "{\"user_id\": \"@alice:example.com\", \"padding\": \"" + "x".repeat(9 * 1024) + "\"}";

            assertErrcode(gateway.post("/v1/spam_checker/user_may_create_room", huge), 413, "M_TOO_LARGE");
        }

        @Test
        void chunkedBodyOverTheLimitIsTooLargeToo() {
            String huge = "{\"user_id\": \"@alice:example.com\", \"padding\": \"" + "x".repeat(9 * 1024) + "\"}";

            assertErrcode(postChunked("/v1/spam_checker/user_may_create_room", huge), 413, "M_TOO_LARGE");
        }

        @Test
        void chunkedBodyWithinTheLimitIsAnswered() {
            Answer answer = postChunked("/v1/spam_checker/user_may_invite", INVITE);

            assertThat(answer.status()).isEqualTo(403);
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
        }

        @Test
        void bodyCutShortOfItsDeclaredLengthIsAMatrixErrorNotAnHtmlPage() throws IOException {
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                socket.setSoTimeout(20_000);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/spam_checker/user_may_invite HTTP/1.1\r\nHost: localhost\r\n"
                        + "Authorization: Bearer e2e-secret-token\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\nConnection: close\r\n\r\n{\"inviter\": ").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                socket.shutdownOutput();
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

                // Tomcat marks the request bad itself and answers through the error page: still Matrix JSON.
                assertThat(response).startsWith("HTTP/1.1 400").contains("application/json").contains("\"errcode\"")
                        .contains("Request body ended early").doesNotContain("<html");
            }
        }

        @Test
        void unknownCallbackIsUnrecognized() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_teleport", "{}"), 404, "M_UNRECOGNIZED");
        }

        @Test
        void unknownCallbackIsNamedWithItsControlCharactersEscapedAndCut() {
            Answer answer = gateway.post("/v1/spam_checker/user_may_%1B%5B31mred%E2%80%A8" + "x".repeat(3_000), "{}");

            assertErrcode(answer, 404, "M_UNRECOGNIZED");
            String error = answer.json().path("error").asString();
            assertThat(error).startsWith("Unknown callback \"spam_checker/user_may_\\u001B[31mred\\u2028xxx")
                    .doesNotContain("\u001B").doesNotContain("\u2028").hasSizeLessThan(300);
        }

        @Test
        void unknownCategoryIsUnrecognized() {
            assertErrcode(gateway.post("/v1/wizardry/user_may_invite", INVITE), 404, "M_UNRECOGNIZED");
        }

        @Test
        void unknownPathIsUnrecognized() {
            assertErrcode(gateway.get("/v1/nothing/here/at/all"), 404, "M_UNRECOGNIZED");
        }

        @Test
        void wrongMethodIsUnrecognized() {
            assertErrcode(gateway.get("/v1/spam_checker/user_may_invite"), 405, "M_UNRECOGNIZED");
        }

        @Test
        void wrongMethodNamesTheAllowedOnes() {
            assertThat(gateway.get("/v1/spam_checker/user_may_invite").header("Allow")).isEqualTo("POST, OPTIONS");
            assertThat(gateway.post("/v1/callbacks", "{}").header("Allow")).isEqualTo("GET, HEAD, OPTIONS");
        }

        @Test
        void noErrorBodyCarriesAStackTrace() {
            Answer answer = gateway.post("/v1/spam_checker/user_may_invite", "{\"inviter\": 42}");

            assertThat(answer.body()).doesNotContain("Exception").doesNotContain("\tat ");
        }

        /** A body of unknown length, which the client sends with chunked transfer encoding. */
        private Answer postChunked(String path, String body) {
            return gateway.send(gateway.authorized(path)
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8))))
                    .build());
        }

    }

    /**
     * Synapse asks some callbacks about a room ID before it checks it: the one a client wrote in its
     * request's path ({@code /rooms/{roomId}/join}, {@code /invite}, {@code /state/...}, {@code
     * /directory/list/room/{roomId}}). A client's typo there gets the chain's answer, and then
     * Synapse's own error, never a 400 that the homeserver module takes as the gateway failing.
     */
    @Nested
    class RoomIdsAClientWrote {

        @ParameterizedTest
        @ValueSource(strings = {"junk", "#lobby:example.com", "!no-server-name", "", "!room:not a server", "!caf\u00e9"})
        void aRoomIdFromARequestPathGetsTheChainsAnswer(String room) {
            String roomJson = "\"" + room + "\"";

            assertJoinAndInviteAreAnsweredByTheChain("@alice:example.com", "@bob:example.org", room);
            assertErrcode(gateway.post("/v1/spam_checker/user_may_send_state_event",
                    "{\"user_id\": \"@alice:example.com\", \"room_id\": " + roomJson
                            + ", \"event_type\": \"m.room.topic\", \"state_key\": \"\", \"content\": {}}"),
                    403, "M_FORBIDDEN");
            assertErrcode(gateway.post("/v1/spam_checker/user_may_send_3pid_invite",
                    "{\"inviter\": \"@alice:example.com\", \"medium\": \"email\", \"address\": \"bob@example.org\", \"room_id\": "
                            + roomJson + "}"),
                    403, "M_FORBIDDEN");
            assertErrcode(gateway.post("/v1/spam_checker/user_may_publish_room",
                    "{\"user_id\": \"@alice:example.com\", \"room_id\": " + roomJson + "}"), 403, "M_FORBIDDEN");
        }

        @Test
        void aRoomIdThatIsNoStringOrIsMissingIsStillABadArgument() {
            assertErrcode(gateway.post("/v1/spam_checker/user_may_join_room",
                    "{\"user\": \"@alice:example.com\", \"room\": 42, \"is_invited\": false}"), 400, "M_INVALID_PARAM");
            assertErrcode(gateway.post("/v1/spam_checker/user_may_join_room",
                    "{\"user\": \"@alice:example.com\", \"is_invited\": false}"), 400, "M_MISSING_PARAM");
        }

        /** The admin API's room deletion checks the room ID ({@code RoomID.is_valid}) before it asks. */
        @Test
        void aRoomIdSynapseChecksBeforeItAsksIsStillChecked() {
            assertErrcode(gateway.post("/v1/third_party_rules/check_can_shutdown_room",
                    "{\"user_id\": \"@alice:example.com\", \"room_id\": \"#alias:example.com\"}"), 400, "M_INVALID_PARAM");
        }
    }

    /**
     * Synapse takes a user ID as {@code UserID.from_string} does, {@code @} and a {@code ':'}, wherever it
     * does not check more: an appservice registers any localpart in its namespace (a ':' in it, more
     * than 255 bytes), and a client's invite body names any invitee. The chain answers about them.
     */
    @Nested
    class UserIdsSynapseDoesNotCheck {

        @ParameterizedTest
        @ValueSource(strings = {"@irc_a:b:example.com", "@bob:", "@bob:not a server"})
        void aUserIdSynapseAsksAboutUncheckedGetsTheChainsAnswer(String user) {
            assertJoinAndInviteAreAnsweredByTheChain(user, user, "!r:example.com");
            assertErrcode(gateway.post("/v1/spam_checker/check_event_for_spam", """
                    {"event": {"event_id": "$e", "sender": "%s", "room_id": "!r:example.com", "type": "m.room.message"}}"""
                    .formatted(user)), 403, "M_FORBIDDEN");
        }

        @Test
        void anAppserviceUserOfMoreThan255BytesGetsTheChainsAnswer() {
            String user = "@irc_" + "x".repeat(500) + ":example.com";

            assertErrcode(gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"" + user + "\"}"), 403, "M_FORBIDDEN");
        }
    }

    /** {@code user} joining and {@code invitee} invited to {@code room}: "pass" alone answers the join, "decide" the invite. */
    private void assertJoinAndInviteAreAnsweredByTheChain(String user, String invitee, String room) {
        assertThat(gateway.post("/v1/spam_checker/user_may_join_room",
                "{\"user\": \"" + user + "\", \"room\": \"" + room + "\", \"is_invited\": false}").json())
                .isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
        assertErrcode(gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@alice:example.com\", \"invitee\": \"" + invitee + "\", \"room_id\": \"" + room + "\"}"),
                403, "M_LIMIT_EXCEEDED");
    }

    private static void assertErrcode(Answer answer, int status, String errcode) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).startsWith("application/json");
        assertThat(answer.json().get("errcode").asString()).isEqualTo(errcode);
        assertThat(answer.json().get("error").asString()).isNotBlank();
    }

    @Nested
    class ManagementPort {

        @Test
        void prometheusShowsDecisionsWithTheDecidingModule() {
            gateway.post("/v1/spam_checker/user_may_invite", INVITE);

            String scrape = management("/actuator/prometheus").body();

            assertThat(scrape).containsPattern(
                    "policy_decisions_total\\{[^}]*callback=\"user_may_invite\"[^}]*module=\"decide\"[^}]*outcome=\"deny\"[^}]*} [1-9]");
            assertThat(scrape).contains("policy_callback_seconds_bucket{");
            assertThat(scrape).containsPattern("policy_module_seconds_count\\{[^}]*module=\"pass\"");
            assertThat(scrape).doesNotContain("@alice:example.com").doesNotContain("!room:example.com");
        }

        @Test
        void prometheusShowsTheVirtualThreadSchedulerWithTwoCarriersPerProcessor() {
            String scrape = management("/actuator/prometheus").body();

            int carriers = 2 * Runtime.getRuntime().availableProcessors();
            assertThat(scrape).containsPattern("(?m)^jvm_threads_virtual_parallelism(\\{[^}]*})? " + carriers + "\\.0$");
            assertThat(scrape).containsPattern("(?m)^jvm_threads_virtual_carriers(\\{[^}]*})? [1-9][0-9]*\\.0$");
            assertThat(scrape).containsPattern("(?m)^jvm_threads_virtual_mounted(\\{[^}]*})? [0-9]+\\.0$");
            assertThat(scrape).containsPattern("(?m)^jvm_threads_virtual_queued(\\{[^}]*})? [0-9]+\\.0$");
        }

        @Test
        void aBodySentToAnOpenEndpointLeavesNoNameInSpringsMapper() throws ReflectiveOperationException {
            // the actuator reads a JSON body on every operation with Spring's mapper, a caller with no token's too:
            // Jackson's factory would keep its names (up to 4 KB each, the body cap) for the life of the mapper
            String body = "{\"" + "n".repeat(1000) + System.nanoTime() + "\": 1}";
            RawHttp.Response answer = RawHttp.exchange(managementPort, "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);

            assertThat(answer.status()).isEqualTo(200);
            Field names = JsonFactory.class.getDeclaredField("_byteSymbolCanonicalizer");
            names.setAccessible(true);
            assertThat(((ByteQuadsCanonicalizer) names.get(springJson.tokenStreamFactory())).size())
                    .as("names Spring's mapper keeps for the next document").isZero();
        }

        @Test
        void prometheusShowsWhatModuleBackendRepliesHoldOfTheirShareOfTheHeap() {
            String scrape = management("/actuator/prometheus").body();

            assertThat(scrape).containsPattern("(?m)^policy_module_backend_reply_memory_bytes(\\{[^}]*})? [0-9.E]+$");
            assertThat(scrape).containsPattern("(?m)^policy_module_backend_reply_memory_max_bytes(\\{[^}]*})? "
                    + Pattern.quote(String.valueOf((double) (Runtime.getRuntime().maxMemory() / 3))) + "$");
        }

        @Test
        void prometheusCountsErrorAnswersByStatusAndErrcode() {
            gateway.post("/v1/spam_checker/user_may_invite", "{\"inviter\": ");
            new GatewayClient(port, "wrong-token").post("/v1/spam_checker/user_may_invite", INVITE);

            String scrape = management("/actuator/prometheus").body();

            assertThat(scrape).containsPattern("policy_requests_errors_total\\{[^}]*errcode=\"M_NOT_JSON\"[^}]*status=\"400\"[^}]*} [1-9]");
            assertThat(scrape).containsPattern("policy_requests_errors_total\\{[^}]*errcode=\"none\"[^}]*status=\"401\"[^}]*} [1-9]");
        }

        @Test
        void policyApiIsLeftOutOfHttpServerRequests() {
            gateway.post("/v1/spam_checker/user_may_invite", INVITE);
            gateway.get("/not/a/policy/path");

            String scrape = management("/actuator/prometheus").body();

            assertThat(scrape).containsPattern("http_server_requests_seconds_count\\{[^}]*status=\"404\"");
            // the callbacks' POSTs; a wrong method on is_evil (Spring MVC's 405 matches no pattern) is UNKNOWN too
            assertThat(scrape).doesNotContainPattern("http_server_requests_seconds_count\\{[^}]*method=\"POST\"[^}]*uri=\"UNKNOWN\"");
        }

        @Test
        void springMvcFiltersServeOnlySpringMvcsDispatcher() {
            ServletContext context = webServer.getServletContext();

            for (String filter : List.of("characterEncodingFilter", "requestContextFilter", "webMvcObservationFilter")) {
                FilterRegistration registration = context.getFilterRegistration(filter);
                assertThat(registration.getUrlPatternMappings()).as(filter).isEmpty();
                assertThat(registration.getServletNameMappings()).as(filter).containsExactly("dispatcherServlet");
            }
            assertThat(context.getFilterRegistration("bearerTokenFilter").getUrlPatternMappings()).containsExactly("/*");
        }

        @Test
        void chainsEndpointShowsEveryCallbackWithItsOrderedModules() {
            Answer chains = management("/actuator/chains");

            assertThat(chains.json().at("/spam_checker/user_may_invite")).isEqualTo(GatewayClient.json("[\"pass\", \"decide\", \"never\"]"));
            assertThat(chains.json().at("/password_auth_provider/check_auth/m.login.password"))
                    .isEqualTo(GatewayClient.json("[\"passwords\", \"more-passwords\"]"));
            assertThat(chains.json().at("/background_update_controller/default_batch_size")).isEqualTo(GatewayClient.json("[]"));
        }

        @Test
        void livenessAndReadinessGroupsAreUp() {
            assertThat(management("/actuator/health/liveness").body()).contains("UP");
            assertThat(management("/actuator/health/readiness").body()).contains("UP");
        }

        @Test
        void aHealthPathPastSomethingWithoutPartsIs404NotAServerError() {
            for (String path : List.of("/actuator/health/nothing/more", "/actuator/health/readiness/nothing/more/still",
                    "/actuator/health/liveness/nothing/more", "/actuator/health/ping/more", "/actuator/health/nothing")) {
                Answer answer = management(path);
                assertThat(answer.status()).as(path).isEqualTo(404);
                assertThat(answer.json().get("errcode").asString()).as(path).isEqualTo("M_UNRECOGNIZED");
            }
            assertThat(management("/actuator/health/readiness/readinessState").body()).contains("UP");
        }

        /** Spring MVC routes by the path as sent, the container and the guards by the path resolved: such a path is routed nowhere. */
        @ParameterizedTest
        @ValueSource(strings = {"/actuator/health/./liveness", "/actuator/health/../x", "/actuator/health/%2e%2e/liveness",
            "/actuator/health/%2E/liveness", "/actuator/health/..;a=b/liveness", "/actuator/health/liveness/.", "/actuator/./health"})
        void anActuatorPathWithADotSegmentIsRoutedNowhere(String target) {
            RawHttp.Response answer = RawHttp.exchange(managementPort, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertThat(answer.status()).as(answer.toString()).isEqualTo(404);
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_UNRECOGNIZED");
        }

        @Test
        void idleKeepAliveConnectionsOutliveSynapsesTwoMinuteReuse() {
            Connector connector = ((TomcatWebServer) webServer.getWebServer()).getTomcat().getConnector();

            assertThat((Integer) connector.getProperty("keepAliveTimeout")).isGreaterThan(120_000);
            assertThat((Integer) connector.getProperty("maxKeepAliveRequests")).isEqualTo(-1);
        }

        @Test
        void aRequestWhoseBytesStopComingWaitsAtMostTwentySecondsForEach() {
            Connector connector = ((TomcatWebServer) webServer.getWebServer()).getTomcat().getConnector();

            // under the 30 s a body has to come whole, and a third of Tomcat's default, for a header or
            // a body that stops coming; an idle connection between requests keeps its 180 s
            assertThat((Integer) connector.getProperty("connectionTimeout")).isEqualTo(20_000);
            assertThat((Integer) connector.getProperty("keepAliveTimeout")).isEqualTo(180_000);
        }

        @Test
        void actuatorIsNotServedOnThePolicyPort() {
            assertThat(gateway.get("/actuator/prometheus").status()).isEqualTo(404);
        }

        private Answer management(String path) {
            return new GatewayClient(managementPort, null).get(path);
        }
    }
}
