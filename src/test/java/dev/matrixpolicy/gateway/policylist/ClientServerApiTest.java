package dev.matrixpolicy.gateway.policylist;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client-server API calls of a policy room source, against a homeserver that misbehaves on the wire. */
class ClientServerApiTest {
    private final WireMockServer homeserver = new WireMockServer(WireMockConfiguration.options().dynamicPort());

    @AfterEach
    void stop() {
        homeserver.stop();
    }

    private ClientServerApi api() {
        homeserver.start();
        return new ClientServerApi(URI.create(homeserver.baseUrl()), "token", Duration.ofSeconds(5), new ReplyCap("max-size", 1 << 20));
    }

    @Test
    void anIdTheHomeserverAnswersMustBeOneOfItsKind() {
        ClientServerApi api = api();
        homeserver.stubFor(get("/_matrix/client/v3/account/whoami")
                .willReturn(okJson("{\"user_id\": \"@bot:example.org\\n2026-12-04 ERROR forged\"}")));
        homeserver.stubFor(post(urlPathEqualTo("/_matrix/client/v3/join/%21room%3Aexample.org"))
                .willReturn(okJson("{\"room_id\": \"#not-a-room-id:example.org\"}")));

        assertThatThrownBy(api::whoami).isInstanceOf(HomeserverFailure.class)
                .hasMessageStartingWith("the homeserver's answer to GET /account/whoami is unusable: user_id "
                        + "\\\"@bot:example.org 2026-12-04 ERROR forged\\\" is not a valid Matrix user ID");
        assertThatThrownBy(() -> api.join("!room:example.org")).isInstanceOf(HomeserverFailure.class)
                .hasMessageContaining("room_id \\\"#not-a-room-id:example.org\\\" is not a valid Matrix room ID");
    }

    @Test
    void aSmallCallsAnswerIsReadOnlyUpToAMegabyteWhateverMaxSizeSays() {
        homeserver.start();
        ClientServerApi api = new ClientServerApi(URI.create(homeserver.baseUrl()), "token", Duration.ofSeconds(5),
                new ReplyCap("max-size", 256L << 20));
        homeserver.stubFor(get("/_matrix/client/v3/account/whoami")
                .willReturn(okJson("{\"user_id\": \"@bot:example.org\", \"x\": [" + "0,".repeat(600_000) + "0]}")));

        assertThatThrownBy(api::whoami).isInstanceOf(HomeserverFailure.class)
                .hasMessageContaining("reply larger than the small-answer cap 1MB");
    }

    @Test
    void aMatrixErrorsErrcodeIsShownEscapedLikeItsMessage() {
        ClientServerApi api = api();
        homeserver.stubFor(get("/_matrix/client/v3/account/whoami").willReturn(aResponse().withStatus(500)
                .withBody("{\"errcode\": \"M_UNKNOWN\\u001b[31m\\u2028forged\", \"error\": \"boom\"}")));

        assertThatThrownBy(api::whoami).isInstanceOf(HomeserverFailure.class)
                .hasMessage("the homeserver fails (GET /account/whoami answered 500 M_UNKNOWN\\u001B[31m\\u2028forged: boom)");
    }

    @Test
    void aMemberAnswerWithoutAMembershipSaysNothingOfTheBotsMembership() throws Exception {
        ClientServerApi api = api();
        String member = "/_matrix/client/v3/rooms/%21room%3Aexample.org/state/m.room.member/%40bot%3Aexample.org";
        homeserver.stubFor(get(member).willReturn(okJson("{\"next_batch\": 5, \"rooms\": \"nope\"}")));

        assertThatThrownBy(() -> api.membership("!room:example.org", "@bot:example.org")).isInstanceOf(HomeserverFailure.class)
                .hasMessageContaining("no \\\"membership\\\" string");

        homeserver.stubFor(get(member).willReturn(okJson("{\"membership\": \"leave\"}")));
        assertThat(api.membership("!room:example.org", "@bot:example.org")).contains("leave");
    }

    @Test
    void anEventIsRedactedOnlyWhenTheHomeserverSaysWhichRedactionEmptiedIt() throws Exception {
        ClientServerApi api = api();
        event("$redacted", okJson("{\"event_id\": \"$redacted\", \"content\": {}, \"unsigned\": {\"redacted_because\":"
                + " {\"type\": \"m.room.redaction\", \"event_id\": \"$r\", \"redacts\": \"$redacted\"}}}"));
        event("$kept", okJson("{\"event_id\": \"$kept\", \"content\": {\"entity\": \"@spam:evil.example\"}}"));
        event("$erased", okJson("{\"event_id\": \"$erased\", \"content\": {}}"));

        assertThat(api.isRedacted("!room:example.org", "$redacted")).isTrue();
        assertThat(api.isRedacted("!room:example.org", "$kept")).isFalse();
        assertThat(api.isRedacted("!room:example.org", "$erased"))
                .as("an erased sender's event, shown pruned to a member who joined after it: its rule stands in the state")
                .isFalse();
    }

    @Test
    void anAnswerThatIsNotTheEventSaysNothingOfItsRedaction() {
        ClientServerApi api = api();
        event("$empty", okJson("{}"));
        event("$other", okJson("{\"event_id\": \"$other-one\", \"content\": {}, \"unsigned\": {\"redacted_because\": {}}}"));
        event("$nocontent", okJson("{\"event_id\": \"$nocontent\", \"content\": null}"));
        event("$gone", aResponse().withStatus(404).withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Event not found.\"}"));
        event("$proxied", aResponse().withStatus(404).withBody("<html>Not Found</html>"));

        for (String eventId : List.of("$empty", "$other", "$nocontent", "$gone", "$proxied")) {
            assertThatThrownBy(() -> api.isRedacted("!room:example.org", eventId)).as(eventId).isInstanceOf(HomeserverFailure.class);
        }
    }

    @Test
    void onlyTheHomeserversOwnRefusalSaysTheBotIsNoMember() throws Exception {
        ClientServerApi api = api();
        String member = "/_matrix/client/v3/rooms/%21room%3Aexample.org/state/m.room.member/%40bot%3Aexample.org";
        homeserver.stubFor(get(member).willReturn(aResponse().withStatus(403).withBody("<html>Forbidden</html>")));
        assertThatThrownBy(() -> api.membership("!room:example.org", "@bot:example.org")).as("a proxy's 403")
                .isInstanceOf(HomeserverFailure.class);
        assertThatThrownBy(() -> api.isJoined("!room:example.org", "@bot:example.org")).isInstanceOf(HomeserverFailure.class);

        homeserver.stubFor(get(member).willReturn(aResponse().withStatus(404).withBody("<html>Not Found</html>")));
        assertThatThrownBy(() -> api.isJoined("!room:example.org", "@bot:example.org")).as("a proxy's 404")
                .isInstanceOf(HomeserverFailure.class);

        homeserver.stubFor(get(member).willReturn(aResponse().withStatus(403)
                .withBody("{\"errcode\": \"M_FORBIDDEN\", \"error\": \"User @bot:example.org not in room\"}")));
        assertThat(api.membership("!room:example.org", "@bot:example.org")).isEmpty();
        assertThat(api.isJoined("!room:example.org", "@bot:example.org")).isFalse();
    }

    @Test
    void onlyTheHomeserversOwnNotFoundSaysARoomHasNoTombstone() throws Exception {
        ClientServerApi api = api();
        String tombstone = "/_matrix/client/v3/rooms/%21room%3Aexample.org/state/m.room.tombstone/";
        homeserver.stubFor(get(tombstone).willReturn(aResponse().withStatus(404).withBody("<html>Not Found</html>")));
        assertThatThrownBy(() -> api.tombstone("!room:example.org")).as("a proxy's 404").isInstanceOf(HomeserverFailure.class);

        homeserver.stubFor(get(tombstone).willReturn(aResponse().withStatus(404)
                .withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Event not found.\"}")));
        assertThat(api.tombstone("!room:example.org")).isEmpty();
    }

    private void event(String eventId, ResponseDefinitionBuilder answer) {
        homeserver.stubFor(get("/_matrix/client/v3/rooms/%21room%3Aexample.org/event/" + eventId.replace("$", "%24")).willReturn(answer));
    }

    @Test
    void anAnswerThatTricklesInJustWithinEachStallEndsAtItsDeadline() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> trickle(listener));
            // A byte every 100 ms never stalls for the 2 s request timeout (400 ms was a margin a loaded
            // machine's late wake-ups can use up, as PollingSourcesTest's 300 ms did); the whole body must
            // still come within its deadline (the timeout and the 1 s slow body here: 3 s).
            ClientServerApi api = new ClientServerApi(URI.create("http://127.0.0.1:" + listener.getLocalPort()), "token",
                    Duration.ofSeconds(2), new ReplyCap("max-size", 1 << 20), Duration.ofSeconds(1));
            long started = System.nanoTime();

            assertThatThrownBy(api::whoami)
                    .isInstanceOf(HomeserverFailure.class)
                    .hasMessage("the homeserver's answer to GET /account/whoami took longer than 3s");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            server.interrupt();
        }
    }

    @Test
    void anAnswerCutShortSaysItBrokeOffWhereverItWasCutAsOneCondition() throws Exception {
        // The homeserver (or a proxy) answered, then closed the connection short of its Content-Length or
        // its last chunk: the JDK says "closed", and "cannot reach the homeserver" would mislead.
        List<String> cuts = List.of("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"user_id\": ",
                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"user_id\": \"@bot:exa",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"use\r\n");
        List<HomeserverFailure> failures = new ArrayList<>();
        for (String cut : cuts) {
            try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                Thread.ofVirtual().start(() -> {
                    try (Socket socket = listener.accept()) {
                        socket.getInputStream().read(new byte[4096]);
                        socket.getOutputStream().write(cut.getBytes(StandardCharsets.US_ASCII));
                        socket.getOutputStream().flush();
                    } catch (IOException ended) {
                        // the test ended
                    }
                });
                ClientServerApi api = new ClientServerApi(URI.create("http://127.0.0.1:" + listener.getLocalPort()), "token",
                        Duration.ofSeconds(5), new ReplyCap("max-size", 1 << 20));
                failures.add((HomeserverFailure) catchThrowable(api::whoami));
            }
        }

        assertThat(failures).allSatisfy(failure -> assertThat(failure.getMessage())
                .startsWith("the homeserver's answer to GET /account/whoami broke off before its end ("));
        assertThat(failures.getFirst().getMessage()).contains("fixed content-length: 1000, bytes received: 12");
        assertThat(failures).extracting(HomeserverFailure::condition).containsOnly(
                "the homeserver's answer to GET /account/whoami broke off before its end");
        assertThat(failures).extracting(HomeserverFailure::next).containsOnly(HomeserverFailure.Next.RETRY);
    }

    /** Answers with headers at once, then one byte of its body every 100 ms, for ever. */
    private static void trickle(ServerSocket listener) {
        try (Socket socket = listener.accept()) {
            InputStream in = socket.getInputStream();
            byte[] head = new byte[4096];
            in.read(head);
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(100);
                out.write(' ');
                out.flush();
            }
        } catch (IOException | InterruptedException ended) {
            // the client gave up, or the test ended
        }
    }
}
