package dev.matrixpolicy.gateway.api;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.Pdu;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.KeepAliveConnection;
import dev.matrixpolicy.gateway.support.RawHttp;
import dev.matrixpolicy.gateway.support.SigningHomeserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The policy server (application-policyserver.yml) as a homeserver meets it: on its own listener,
 * asked with requests signed by a homeserver whose key it fetches over HTTP, deciding with the
 * {@code check_event_for_spam} chain and signing with its own key.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        // no file watcher: a reload reads the profile's file without the key file this test sets, and is refused
        properties = {"management.server.port=0", "policy-gateway.policy-server.port=0", "policy-gateway.reload.watch=false"})
@ActiveProfiles("policyserver")
class PolicyServerEndToEndTest {
    private static final String ROOM = "!served:hs.test";
    private static final String POLICY_SERVER = "policy.test";
    private static final Path KEY_FILE;
    private static final PolicyServerKey KEY;
    private static final SigningHomeserver HOMESERVER;
    /** Another homeserver in the room, which may ask about any event. */
    private static final SigningHomeserver OTHER;
    /** A room version 12 room's create event, and so its room's ID, which the event names nowhere. */
    private static final ObjectNode CREATE;
    private static final String V12_ROOM;

    static {
        try {
            KEY_FILE = Files.createTempDirectory("policy-server").resolve("policy_server.key");
            KEY = PolicyServerKey.generate(KEY_FILE);
            HOMESERVER = new SigningHomeserver("hs.test");
            OTHER = new SigningHomeserver("other.test");
            CREATE = HOMESERVER.create("@alice:hs.test", 1_700_000_000_000L);
            V12_ROOM = Pdu.of("12", CREATE).roomId();
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    @DynamicPropertySource
    static void policyServer(DynamicPropertyRegistry registry) {
        // a list set here replaces the profile's whole list: its rooms again, then the version 12 one
        List<List<String>> rooms = List.of(List.of("!served:hs.test", "10"), List.of("!old:hs.test", "1"),
                List.of("!v3:hs.test", "3"), List.of(V12_ROOM, "12"));
        for (int i = 0; i < rooms.size(); i++) {
            List<String> room = rooms.get(i);
            registry.add("policy-gateway.policy-server.rooms[" + i + "].id", () -> room.get(0));
            registry.add("policy-gateway.policy-server.rooms[" + i + "].version", () -> room.get(1));
        }
        registry.add("policy-gateway.policy-server.key-file", KEY_FILE::toString);
        registry.add("policy-gateway.policy-server.servers[0].name", HOMESERVER::name);
        registry.add("policy-gateway.policy-server.servers[0].address", () -> HOMESERVER.address().toString());
        registry.add("policy-gateway.policy-server.servers[1].name", OTHER::name);
        registry.add("policy-gateway.policy-server.servers[1].address", () -> OTHER.address().toString());
    }

    @AfterAll
    static void stopHomeserver() {
        HOMESERVER.close();
        OTHER.close();
    }

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @Autowired
    WebServerApplicationContext context;

    URI federation;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void findTheFederationListener() {
        federation = federationListener(context, port);
    }

    /** The federation listener's base URI: the connector that is not the policy API's, on {@code apiPort}. */
    static URI federationListener(WebServerApplicationContext context, int apiPort) {
        TomcatWebServer server = (TomcatWebServer) context.getWebServer();
        int federationPort = Arrays.stream(server.getTomcat().getService().findConnectors())
                .mapToInt(Connector::getLocalPort).filter(local -> local != apiPort).findFirst().orElseThrow();
        return URI.create("http://127.0.0.1:" + federationPort);
    }

    private Answer send(HttpRequest request) {
        return send(http, request);
    }

    /** The answer to {@code request}, its body as text, with its headers. */
    static Answer send(HttpClient http, HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), response.body(),
                    response.headers());
        } catch (IOException | InterruptedException failed) {
            throw new IllegalStateException(failed);
        }
    }

    private Answer sign(JsonNode event) {
        return send(HOMESERVER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, event));
    }

    @Test
    void anAllowedEventIsSignedWithThePolicyServersKeyOverItsRedactedForm() {
        ObjectNode event = HOMESERVER.message("10", ROOM, "@alice:hs.test", "hello");

        Answer answer = sign(event);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().properties()).hasSize(1);
        String signature = answer.json().path(POLICY_SERVER).path(PolicyServerKey.KEY_ID).asText();
        assertThat(PolicyServerKey.verifies(KEY.publicKeyBase64(), EventSigner.signedBytes("10", event), signature)).isTrue();
    }

    /** Content nested 30,000 deep, as Synapse on Python 3.14 takes it: hashed, redacted and signed without recursion. */
    @Test
    void anEventWhoseContentNestsAsDeepAsAPduCanIsSigned() {
        ObjectNode content = (ObjectNode) EventJson.MAPPER.readTree("{\"msgtype\": \"m.text\", \"body\": \"deep\", "
                + "\"org.example.deep\": " + "[".repeat(30_000) + "{}" + "]".repeat(30_000) + "}");
        ObjectNode event = HOMESERVER.event("10", ROOM, "@alice:hs.test", "m.room.message", content);

        Answer answer = sign(event);

        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        String signature = answer.json().path(POLICY_SERVER).path(PolicyServerKey.KEY_ID).asText();
        assertThat(PolicyServerKey.verifies(KEY.publicKeyBase64(), EventSigner.signedBytes("10", event), signature)).isTrue();
    }

    @Test
    void anEventTheChainRefusesIsRefusedWith400Forbidden() {
        Answer answer = sign(HOMESERVER.message("10", ROOM, "@spammer:hs.test", "buy now"));

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_FORBIDDEN");
        assertThat(answer.json().path("error").asText()).isEqualTo("You are on the denylist");
    }

    /**
     * Any homeserver may ask about any event, but one that its sender's server did not sign, which no
     * homeserver would accept, is refused before a module judges or counts it; the refusal is not
     * remembered, so the event as its sender's server signed it, asked by any server, is judged.
     */
    @Test
    void anEventItsSendersServerDidNotSignIsRefusedUnjudgedAndTheSignedEventStillJudged() {
        ObjectNode forged = OTHER.message("10", ROOM, "@alice:hs.test", "made up in alice's name " + System.nanoTime());
        ObjectNode tampered = HOMESERVER.hashAndSign("10", forged.deepCopy());
        ((ObjectNode) tampered.get("signatures").get("hs.test")).put(SigningHomeserver.KEY_ID, forged.get("signatures")
                .get("other.test").get(SigningHomeserver.KEY_ID).stringValue());

        for (ObjectNode unsigned : List.of(forged, tampered)) {
            Answer refused = send(OTHER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, unsigned));
            assertThat(refused.status()).as(refused.body()).isEqualTo(400);
            assertThat(refused.json().path("errcode").asText()).isEqualTo("M_FORBIDDEN");
            assertThat(refused.json().path("error").asText()).isEqualTo("The event is not signed by its sender's server");
            String eventId = Pdu.of("10", unsigned).eventId();
            Answer checked = send(OTHER.signedPost(federation, "/_matrix/policy/unstable/org.matrix.msc4284/event/" + eventId
                    + "/check", POLICY_SERVER, unsigned));
            assertThat(checked.json().path("recommendation").asText()).isEqualTo("spam");
        }
        assertThat(scrape(managementPort)).contains("endpoint=\"sign\",outcome=\"unsigned\"")
                .contains("endpoint=\"check\",outcome=\"unsigned\"")
                .containsPattern("(?m)^policy_server_body_memory_bytes(\\{[^}]*})? 0\\.0$")
                .containsPattern("(?m)^policy_server_body_memory_max_bytes(\\{[^}]*})? " + (double) (Runtime.getRuntime().maxMemory() / 16) + "$");

        ObjectNode signed = HOMESERVER.hashAndSign("10", forged.deepCopy());
        Answer answer = send(OTHER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, signed));
        assertThat(answer.status()).as("asked by another server than the sender's: " + answer.body()).isEqualTo(200);
        assertThat(PolicyServerKey.verifies(KEY.publicKeyBase64(), EventSigner.signedBytes("10", signed),
                answer.json().path(POLICY_SERVER).path(PolicyServerKey.KEY_ID).asText())).isTrue();
    }

    /**
     * A join authorised by another server's user under a restricted join rule counts, as homeservers
     * take it, only with that server's signature too, and the refusal names the server missing.
     */
    @Test
    void aRestrictedJoinItsAuthorisingServerDidNotSignIsRefusedNamingThatServer() {
        ObjectNode content = EventJson.MAPPER.createObjectNode().put("membership", "join")
                .put("join_authorised_via_users_server", "@mod:other.test");
        ObjectNode join = HOMESERVER.event("10", ROOM, "@bob:hs.test", "m.room.member", content);
        HOMESERVER.hashAndSign("10", join.put("state_key", "@bob:hs.test"));

        Answer refused = send(HOMESERVER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, join));
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.json().path("errcode").asText()).isEqualTo("M_FORBIDDEN");
        assertThat(refused.json().path("error").asText())
                .isEqualTo("The event is not signed by the server of the user authorising the join (join_authorised_via_users_server)");

        Answer signed = send(HOMESERVER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, OTHER.countersign("10", join)));
        assertThat(signed.status()).as(signed.body()).isEqualTo(200);
    }

    /** As a homeserver refuses such an event, and not as a 401, which reads as the asking server's own signature failing. */
    @Test
    void anEventWhoseSignersKeysCannotBeFetchedIsRefusedSayingSoAndCheckedAsSpam() {
        String unreachable = "127.0.0.1:1"; // never asked: the blocklist refuses the address
        ObjectNode content = EventJson.MAPPER.createObjectNode().put("membership", "join")
                .put("join_authorised_via_users_server", "@mod:" + unreachable);
        ObjectNode join = HOMESERVER.event("10", ROOM, "@bob:hs.test", "m.room.member", content);
        HOMESERVER.hashAndSign("10", join.put("state_key", "@bob:hs.test"));
        join.withObject("signatures").putObject(unreachable).put("ed25519:a", "AAAA");

        Answer refused = send(HOMESERVER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, join));
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.json().path("errcode").asText()).isEqualTo("M_FORBIDDEN");
        assertThat(refused.json().path("error").asText()).isEqualTo("The event's signature by the server of the user "
                + "authorising the join (join_authorised_via_users_server) could not be checked: Could not fetch the keys of " + unreachable);
        Answer checked = send(HOMESERVER.signedPost(federation, "/_matrix/policy/unstable/org.matrix.msc4284/event/"
                + Pdu.of("10", join).eventId() + "/check", POLICY_SERVER, join));
        assertThat(checked.json().path("recommendation").asText()).isEqualTo("spam");
    }

    /**
     * Anyone may connect to the federation listener: a client refused before its body was read (here
     * for a body larger than a PDU may be) must not hold its connection by sending the rest slowly,
     * while a request whose body was read keeps its connection for the next, as a homeserver's pool
     * expects.
     */
    @Test
    void aClientRefusedBeforeItsBodyWasReadLosesItsConnectionThoughItKeepsSendingAndOthersKeepTheirs() {
        RawHttp.Dripped dripped = RawHttp.dripping(federation.getPort(), "POST " + PolicyServerServlet.SIGN + " HTTP/1.1\r\n"
                + "Host: policy.test\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
                Duration.ofMillis(100), Duration.ofSeconds(10));
        assertThat(dripped.answer()).startsWith("HTTP/1.1 413 ");
        assertThat(dripped.closedAfterAnswer()).as("closed while the client still sends, not read to 1 MB")
                .hasValueSatisfying(closed -> assertThat(closed).isLessThan(Duration.ofSeconds(3)));

        try (KeepAliveConnection connection = KeepAliveConnection.open(federation.getPort())) {
            byte[] unsigned = ("POST " + PolicyServerServlet.SIGN + " HTTP/1.1\r\nHost: policy.test\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII);
            assertThat(connection.exchange(unsigned)).isEqualTo(new KeepAliveConnection.Exchange.Answered(401, false));
            assertThat(connection.exchange(unsigned)).as("on the same connection").isEqualTo(new KeepAliveConnection.Exchange.Answered(401, false));
        }
    }

    @Test
    void theUnstablePathSignsToo() {
        Answer answer = send(HOMESERVER.signedPost(federation, PolicyServerServlet.UNSTABLE_SIGN, POLICY_SERVER,
                HOMESERVER.message("10", ROOM, "@alice:hs.test", "unstable")));

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().path(POLICY_SERVER).has(PolicyServerKey.KEY_ID)).isTrue();
    }

    @Test
    void aRoomVersion12CreateEventWhichNamesNoRoomIsSignedForTheRoomItsHashNames() {
        assertThat(CREATE.has("room_id")).isFalse();

        Answer answer = sign(CREATE);

        assertThat(answer.status()).isEqualTo(200);
        String signature = answer.json().path(POLICY_SERVER).path(PolicyServerKey.KEY_ID).asText();
        assertThat(PolicyServerKey.verifies(KEY.publicKeyBase64(), EventSigner.signedBytes("12", CREATE), signature)).isTrue();
    }

    @Test
    void aRoomVersion12CreateEventOfARoomNotServedIsNotFound() {
        Answer answer = sign(HOMESERVER.create("@alice:hs.test", 1_600_000_000_000L));

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_NOT_FOUND");
    }

    @Test
    void theLegacyCheckRecommendsOkOrSpam() {
        ObjectNode allowed = HOMESERVER.message("1", "!old:hs.test", "@alice:hs.test", "hi");
        ObjectNode refused = HOMESERVER.message("1", "!old:hs.test", "@spammer:hs.test", "spam");

        assertThat(check(allowed, allowed.path("event_id").asText()).json().path("recommendation").asText()).isEqualTo("ok");
        assertThat(check(refused, refused.path("event_id").asText()).json().path("recommendation").asText()).isEqualTo("spam");
        assertThat(check(allowed, "$another:hs.test").json().path("recommendation").asText()).isEqualTo("spam");
    }

    @Test
    void theLegacyCheckFindsAnEventIdHoldingASlashEscapedAsHomeserversEscapeIt() {
        // Room version 3 event IDs are standard base64: about every other one holds a '/', which
        // Synapse and ruma send as %2F in the path (a real Synapse's v3 room showed it).
        ObjectNode event = roomVersion3EventWhoseIdHoldsASlash();

        Answer answer = check(event, URLEncoder.encode(Pdu.of("3", event).eventId(), StandardCharsets.UTF_8));

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().path("recommendation").asText()).isEqualTo("ok");
    }

    @Test
    void theLegacyCheckFindsAnEventIdHoldingASlashAsSynapse1136To1150SentItUnescaped() {
        ObjectNode event = roomVersion3EventWhoseIdHoldsASlash();

        Answer answer = check(event, Pdu.of("3", event).eventId());

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().path("recommendation").asText()).isEqualTo("ok");
    }

    /** A message of room version 3, whose event ID (standard base64) holds a '/': about every other one does. */
    private static ObjectNode roomVersion3EventWhoseIdHoldsASlash() {
        ObjectNode event;
        do {
            event = HOMESERVER.message("3", "!v3:hs.test", "@alice:hs.test", "hi " + System.nanoTime());
        } while (!Pdu.of("3", event).eventId().contains("/"));
        return event;
    }

    private Answer check(ObjectNode event, String eventId) {
        String path = "/_matrix/policy/unstable/org.matrix.msc4284/event/" + eventId + "/check";
        return send(HOMESERVER.signedPost(federation, path, POLICY_SERVER, event));
    }

    @Test
    void anUnsignedOrTamperedRequestIsUnauthorized() {
        ObjectNode event = HOMESERVER.message("10", ROOM, "@alice:hs.test", "hello");
        HttpRequest signed = HOMESERVER.signedPost(federation, PolicyServerServlet.SIGN, POLICY_SERVER, event);
        ObjectNode tampered = event.deepCopy().put("origin_server_ts", 1);

        Answer unsigned = send(HttpRequest.newBuilder(federation.resolve(PolicyServerServlet.SIGN))
                .POST(HttpRequest.BodyPublishers.ofString(event.toString())).build());
        Answer otherBody = send(HttpRequest.newBuilder(federation.resolve(PolicyServerServlet.SIGN))
                .header("Authorization", signed.headers().firstValue("Authorization").orElseThrow())
                .POST(HttpRequest.BodyPublishers.ofString(tampered.toString())).build());
        Answer otherDestination = send(HOMESERVER.signedPost(federation, PolicyServerServlet.SIGN, "elsewhere.test", event));

        for (Answer answer : List.of(unsigned, otherBody, otherDestination)) {
            assertThat(answer.status()).isEqualTo(401);
            assertThat(answer.json().path("errcode").asText()).isEqualTo("M_UNAUTHORIZED");
        }
    }

    @Test
    void anOriginNamingALoopbackAddressIsNeverAskedAndTheAnswerSaysNothingOfIt() {
        int fetches = HOMESERVER.keyFetches();
        String origin = "127.0.0.1:" + HOMESERVER.address().getPort(); // the homeserver's own port, by its address
        Answer answer = send(HttpRequest.newBuilder(federation.resolve(PolicyServerServlet.SIGN))
                .header("Authorization", "X-Matrix origin=\"" + origin + "\",destination=\"" + POLICY_SERVER
                        + "\",key=\"ed25519:a\",sig=\"AAAA\"")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());

        assertThat(answer.status()).isEqualTo(401);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_UNAUTHORIZED");
        assertThat(answer.json().path("error").asText()).isEqualTo("Could not fetch the keys of " + origin);
        assertThat(HOMESERVER.keyFetches()).as("the blocklist refused the address before connecting").isEqualTo(fetches);
    }

    @Test
    void anEventOfARoomNotServedIsNotFound() {
        Answer answer = sign(HOMESERVER.message("10", "!other:hs.test", "@alice:hs.test", "hello"));

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_NOT_FOUND");
    }

    @Test
    void anEventWhoseRoomIdIsNoRoomIdIsBadJsonAndNotEchoed() {
        for (String roomId : List.of("!served:hs.test\n", "!" + "a".repeat(100_000) + ":hs.test", "#alias:hs.test")) {
            Answer answer = sign(HOMESERVER.message("10", roomId, "@alice:hs.test", "hello"));

            assertThat(answer.status()).isEqualTo(400);
            assertThat(answer.json().path("errcode").asText()).isEqualTo("M_BAD_JSON");
            assertThat(answer.body()).hasSizeLessThan(500);
        }
    }

    @Test
    void anEventLargerThanAPduMayBeIsBadJsonNeverSigned() {
        Answer answer = sign(HOMESERVER.message("10", ROOM, "@alice:hs.test", "a".repeat(Pdu.MAX_BYTES)));

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_BAD_JSON");
        assertThat(answer.json().path("error").asText()).contains("larger than the 65536 bytes");
    }

    @Test
    void anEventWhoseContentDoesNotMatchItsHashIsBadJson() {
        ObjectNode event = HOMESERVER.message("10", ROOM, "@alice:hs.test", "hello");
        ((ObjectNode) event.path("content")).put("body", "something else");

        Answer answer = sign(event);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_BAD_JSON");
        assertThat(answer.json().path("error").asText()).contains("content hash");
    }

    @Test
    void aHashedAndSignedEventWhoseSenderIsNoUserIdIsBadJsonNeverSigned() {
        // The denylist's user with a character added: a module matching user IDs would not see it.
        for (String sender : List.of("@spammer:hs.test ", "@spammer:hs.test\n", "x")) {
            Answer answer = sign(HOMESERVER.message("10", ROOM, sender, "buy now"));

            assertThat(answer.status()).as(sender).isEqualTo(400);
            assertThat(answer.json().path("errcode").asText()).isEqualTo("M_BAD_JSON");
            assertThat(answer.json().path("error").asText()).startsWith("The event's sender is not a valid Matrix user ID");
        }
    }

    @Test
    void theLegacyCheckCallsAnEventWithAMalformedSenderOrDepthSpam() {
        ObjectNode badSender = HOMESERVER.message("1", "!old:hs.test", "@spammer:hs.test ", "spam");
        ObjectNode badDepth = HOMESERVER.hashAndSign("1", HOMESERVER.message("1", "!old:hs.test", "@alice:hs.test", "hi")
                .put("depth", -1));

        for (ObjectNode event : List.of(badSender, badDepth)) {
            assertThat(check(event, event.path("event_id").asText()).json().path("recommendation").asText()).isEqualTo("spam");
        }
    }

    @Test
    void theRoomsPolicyEventItselfIsNeverSigned() {
        ObjectNode content = (ObjectNode) GatewayClient.json("{\"via\": \"policy.test\"}");
        ObjectNode policy = HOMESERVER.event("10", ROOM, "@alice:hs.test", "m.room.policy", content);
        policy.put("state_key", "");

        Answer answer = sign(HOMESERVER.hashAndSign("10", policy));

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_BAD_JSON");
    }

    @Test
    void aBodyThatIsNotJsonIsNotJson() {
        HttpRequest request = HttpRequest.newBuilder(federation.resolve(PolicyServerServlet.SIGN))
                .POST(HttpRequest.BodyPublishers.ofString("{nope")).build();

        Answer answer = send(request);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("errcode").asText()).isEqualTo("M_NOT_JSON");
    }

    @Test
    void aBodyItsClientStoppedSendingEndedEarlyAndIsNotCountedAsNotJson() {
        int notJsonBefore = signCount("not_json");
        int unknownBefore = signCount("unknown");
        byte[] cut = ("POST " + PolicyServerServlet.SIGN + " HTTP/1.1\r\nHost: policy.test\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n{\"type\": ").getBytes(StandardCharsets.US_ASCII);

        List<RawHttp.Response> answers = RawHttp.send(federation.getPort(), cut, false); // then half-closed

        assertThat(answers).singleElement().satisfies(answer -> {
            HttpEdgeEndToEndTest.assertMatrixError(answer, 400, "M_UNKNOWN");
            assertThat(answer.body()).contains("Request body ended early: the connection was closed before all of it came");
        });
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(signCount("unknown")).isEqualTo(unknownBefore + 1));
        assertThat(signCount("not_json")).isEqualTo(notJsonBefore);
    }

    @Test
    void aBodyItsClientResetIsNotCountedAsNotJsonEither() throws IOException {
        int notJsonBefore = signCount("not_json");
        int unknownBefore = signCount("unknown");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), federation.getPort())) {
            socket.getOutputStream().write(("POST " + PolicyServerServlet.SIGN + " HTTP/1.1\r\nHost: policy.test\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\": ").getBytes(StandardCharsets.US_ASCII));
            Pattern reading = Pattern.compile("(?m)^policy_server_requests_in_progress(\\{[^}]*})? 1(\\.0)?$");
            await().atMost(Duration.ofSeconds(10)).until(() -> reading.matcher(scrape(managementPort)).find()); // the body is being read
            socket.setSoLinger(true, 0); // closed with a reset
        }

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(signCount("unknown")).isEqualTo(unknownBefore + 1));
        assertThat(signCount("not_json")).isEqualTo(notJsonBefore);
    }

    /** How many sign requests the policy server's timer has counted with {@code outcome}; the tests share one gateway. */
    private int signCount(String outcome) {
        Matcher count = Pattern.compile("(?m)^policy_server_requests_seconds_count\\{[^}]*endpoint=\"sign\",outcome=\""
                + outcome + "\"[^}]*} (\\d+)(?:\\.0)?$").matcher(scrape(managementPort));
        return count.find() ? Integer.parseInt(count.group(1)) : 0;
    }

    @Test
    void theWellKnownDocumentGivesThePublicKeyToAnyWebPage() {
        Answer answer = send(HttpRequest.newBuilder(federation.resolve(PolicyServerServlet.WELL_KNOWN)).build());

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().path("public_keys").path("ed25519").asText()).isEqualTo(KEY.publicKeyBase64());
    }

    /** As the policy and management ports answer them: OPTIONS lists what the path takes, and every wrong method gets that list. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("federationPaths")
    void optionsIsAnsweredWithThePathsMethodsWhichEveryWrongMethodsRefusalNamesToo(String path, String allow) {
        RawHttp.Response options = onFederation("OPTIONS", path);

        assertThat(options.status()).as(options.toString()).isEqualTo(200);
        assertThat(options.header("Allow")).hasValue(allow);
        assertThat(options.body()).isEmpty();
        for (String wrong : List.of("TRACE", "PUT")) {
            RawHttp.Response refused = onFederation(wrong, path);
            assertThat(refused.status()).as(wrong + ": " + refused).isEqualTo(405);
            assertThat(refused.header("Allow")).as(wrong).hasValue(allow);
            assertThat(refused.json().path("errcode").asString()).isEqualTo("M_UNRECOGNIZED");
        }
    }

    static List<Arguments> federationPaths() {
        return List.of(Arguments.of(PolicyServerServlet.SIGN, "POST, OPTIONS"),
                Arguments.of(PolicyServerServlet.UNSTABLE_SIGN, "POST, OPTIONS"),
                Arguments.of("/_matrix/policy/unstable/org.matrix.msc4284/event/$e:hs.test/check", "POST, OPTIONS"),
                Arguments.of(PolicyServerServlet.WELL_KNOWN, "GET, HEAD, OPTIONS"));
    }

    /**
     * A success that leaves a body unread (an OPTIONS or a GET that carries one) keeps its status and
     * its body; the connection is still closed with it, the body unread, as after a refusal (an
     * OPTIONS was answered 500 before).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("federationPaths")
    void anAnswerThatLeavesABodyUnreadKeepsItsSuccessAndClosesTheConnection(String path, String allow) {
        for (String method : allow.contains("GET") ? List.of("OPTIONS", "GET") : List.of("OPTIONS")) {
            for (String framing : List.of("Content-Length: 2\r\n\r\n{}", "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")) {
                RawHttp.Response answer = RawHttp.exchange(federation.getPort(), method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\n" + framing);

                assertThat(answer.status()).as(method + " " + framing + ": " + answer).isEqualTo(200);
                if (method.equals("OPTIONS")) { // a GET's answer was sent with its body, before the body it left was noticed
                    assertThat(answer.header("Connection")).as(method).hasValue("close");
                } else {
                    assertThat(answer.json().path("public_key").asString()).isEqualTo(KEY.publicKeyBase64());
                }
            }
        }
    }

    @Test
    void optionsAsteriskNamesTheMethodsSomePathTakesAsOnThePolicyAndManagementPorts() {
        RawHttp.Response answer = onFederation("OPTIONS", "*");

        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        assertThat(answer.header("Allow")).hasValue("GET, HEAD, POST, OPTIONS");
    }

    private RawHttp.Response onFederation(String method, String path) {
        return RawHttp.exchange(federation.getPort(), method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    }

    @Test
    void eachListenerAnswersOnlyItsOwnPaths() {
        Answer policyApiOnFederation = send(HttpRequest.newBuilder(federation.resolve("/v1/callbacks")).build());
        Answer actuatorOnFederation = send(HttpRequest.newBuilder(federation.resolve("/actuator/health")).build());
        Answer wellKnownOnPolicyApi = new GatewayClient(port, "policyserver-token").get(PolicyServerServlet.WELL_KNOWN);
        Answer signOnPolicyApi = new GatewayClient(port, "policyserver-token").post(PolicyServerServlet.SIGN, "{}");

        for (Answer answer : List.of(policyApiOnFederation, actuatorOnFederation, wellKnownOnPolicyApi, signOnPolicyApi)) {
            assertThat(answer.status()).isEqualTo(404);
            assertThat(answer.json().path("errcode").asText()).isEqualTo("M_UNRECOGNIZED");
        }
    }

    @Test
    void concurrentQuestionsAboutOneEventRunTheChainOnceAndGetOneAnswer() throws Exception {
        ObjectNode event = HOMESERVER.message("10", ROOM, "@alice:hs.test", "popular");
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Callable<Answer>> questions = java.util.Collections.nCopies(16, () -> sign(event));
            List<String> signatures = pool.invokeAll(questions).stream().map(PolicyServerEndToEndTest::join)
                    .map(answer -> answer.json().path(POLICY_SERVER).path(PolicyServerKey.KEY_ID).asText()).distinct().toList();

            assertThat(signatures).hasSize(1).doesNotContain("");
        }
        assertThat(scrape(managementPort)).containsPattern("cache_gets_total\\{[^}]*cache=\"policy-server-answers\"[^}]*result=\"hit\"[^}]*} (1[5-9]|[2-9][0-9])");
    }

    @Test
    void requestsAreCountedByEndpointAndOutcome() {
        sign(HOMESERVER.message("10", ROOM, "@alice:hs.test", "counted"));

        assertThat(scrape(managementPort)).containsPattern(
                "policy_server_requests_seconds_count\\{[^}]*endpoint=\"sign\"[^}]*outcome=\"signed\"[^}]*} [1-9]");
    }

    /**
     * The table of {@link HttpEdgeEndToEndTest}, on the federation listener. One row differs by
     * design: this listener lets an encoded slash through (room version 3 event IDs hold '/'), so
     * that row's path, no policy server path, is unrecognized rather than malformed.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.api.HttpEdgeEndToEndTest$RequestsTheContainerRefusesItself#malformedRequests")
    void whatTheContainerRefusesOnTheFederationListenerIsMatrixErrorJsonToo(String what, String request, int status, String errcode) {
        boolean encodedSlash = what.contains("encoded slash");
        HttpEdgeEndToEndTest.assertMatrixError(RawHttp.exchange(federation.getPort(), request),
                encodedSlash ? 404 : status, encodedSlash ? "M_UNRECOGNIZED" : errcode);
    }

    @Test
    void aMalformedEscapeInThePathIsAClientError() {
        for (String path : List.of("/_matrix/policy/unstable/org.matrix.msc4284/event/%zz/check", "/_matrix/policy/v1/sign;x=%zz")) {
            RawHttp.Response answer = RawHttp.exchange(federation.getPort(),
                    "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            HttpEdgeEndToEndTest.assertMatrixError(answer, 400, "M_UNKNOWN");
        }
    }

    private static Answer join(Future<Answer> answer) {
        try {
            return answer.get();
        } catch (Exception failed) {
            throw new IllegalStateException(failed);
        }
    }
}
