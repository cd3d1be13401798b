package dev.matrixpolicy.bench;

import com.sun.net.httpserver.HttpServer;
import dev.matrixpolicy.gateway.policyserver.CanonicalJson;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import java.io.IOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The stand-in homeserver of {@code bench/policy-server.sh}: writes pre-signed requests, since wrk
 * cannot sign each one (an {@code X-Matrix} signature does not expire), then serves the
 * homeserver's key on {@code GET /_matrix/key/v2/server} for the policy server to fetch.
 *
 * <pre>
 * PolicyServerFixtures &lt;out-dir&gt; &lt;distinct events&gt; &lt;key server port&gt;
 * </pre>
 *
 * Writes, one request a line ({@code path TAB Authorization TAB body}, read by {@code bench/lua/signed.lua}):
 * <ul>
 *   <li>{@code distinct.tsv}: that many {@code /sign} requests, each of another ~2 KiB event;</li>
 *   <li>{@code repeated.tsv}: one {@code /sign} request of one ~2 KiB event;</li>
 *   <li>{@code check.tsv}: {@code check_event_for_spam} on the policy API about that same event, with
 *       the bench's bearer token;</li>
 * </ul>
 * then prints {@code ready} and serves the key until killed.
 */
public final class PolicyServerFixtures {
    public static final String HOMESERVER = "hs.bench";
    public static final String POLICY_SERVER = "policy.bench";
    static final String ROOM = "!bench:hs.bench";
    public static final String ROOM_VERSION = "10";
    static final String TOKEN = "bench-token";
    public static final String SIGN = "/_matrix/policy/v1/sign";
    static final String CHECK = "/v1/spam_checker/check_event_for_spam";
    private static final String KEY_ID = "ed25519:bench";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private PolicyServerFixtures() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        int distinct = Integer.parseInt(args[1]);
        int port = Integer.parseInt(args[2]);
        Files.createDirectories(out);
        PolicyServerKey key = PolicyServerKey.fromSeed(new byte[32]); // fixed: the runs sign the same bytes
        ObjectNode repeated = event(key, 0);
        try (Writer file = Files.newBufferedWriter(out.resolve("repeated.tsv"))) {
            line(file, SIGN, authorization(key, SIGN, repeated), repeated);
        }
        ObjectNode asked = repeated.deepCopy();
        asked.put("event_id", "$bench-event"); // as the policy server asks its chain: with the event ID
        ObjectNode check = JSON.createObjectNode();
        check.set("event", asked);
        try (Writer file = Files.newBufferedWriter(out.resolve("check.tsv"))) {
            line(file, CHECK, "Bearer " + TOKEN, check);
        }
        try (Writer file = Files.newBufferedWriter(out.resolve("distinct.tsv"))) {
            for (int i = 1; i <= distinct; i++) {
                ObjectNode event = event(key, i);
                line(file, SIGN, authorization(key, SIGN, event), event);
            }
        }
        System.out.printf("event: %d bytes as sent to /sign, %d bytes as sent to check_event_for_spam%n",
                JSON.writeValueAsBytes(repeated).length, JSON.writeValueAsBytes(check).length);
        serve(key, port);
        System.out.println("ready");
    }

    /** A ~2 KiB m.room.message as a homeserver sends it to be signed: hashed and signed by it. */
    public static ObjectNode event(PolicyServerKey key, int n) {
        ObjectNode event = JSON.createObjectNode().put("room_id", ROOM).put("sender", "@alice:" + HOMESERVER)
                .put("type", "m.room.message").put("origin_server_ts", 1_700_000_000_000L + n).put("depth", 1000 + n);
        ObjectNode content = event.putObject("content").put("msgtype", "m.text")
                .put("body", "message " + n + ": " + "lorem ipsum dolor sit amet ".repeat(40))
                .put("format", "org.matrix.custom.html").put("formatted_body", "<p>" + "lorem ipsum ".repeat(30) + "</p>");
        content.putObject("m.mentions").putArray("user_ids").add("@bob:" + HOMESERVER);
        event.putArray("prev_events").add("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Z" + (char) ('a' + n % 26));
        event.putArray("auth_events").add("$create-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .add("$power-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").add("$member-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        event.putObject("unsigned").put("age_ts", 1_700_000_000_000L + n);
        ObjectNode hashed = event.deepCopy();
        hashed.remove("unsigned");
        event.putObject("hashes").put("sha256", Base64.getEncoder().withoutPadding().encodeToString(sha256(CanonicalJson.encode(hashed))));
        event.putObject("signatures").putObject(HOMESERVER).put(KEY_ID, key.sign(EventSigner.signedBytes(ROOM_VERSION, event)));
        return event;
    }

    /** The X-Matrix header of a POST of {@code body} to the policy server, as Synapse writes it. */
    public static String authorization(PolicyServerKey key, String path, ObjectNode body) {
        ObjectNode request = JSON.createObjectNode().put("method", "POST").put("uri", path).put("origin", HOMESERVER)
                .put("destination", POLICY_SERVER);
        request.set("content", body);
        return "X-Matrix origin=\"" + HOMESERVER + "\",destination=\"" + POLICY_SERVER + "\",key=\"" + KEY_ID
                + "\",sig=\"" + key.sign(CanonicalJson.encode(request)) + "\"";
    }

    private static void line(Writer file, String path, String authorization, ObjectNode body) throws IOException {
        file.write(path + "\t" + authorization + "\t" + JSON.writeValueAsString(body) + "\n");
    }

    /** {@code GET /_matrix/key/v2/server}: the homeserver's key, self-signed, valid for a day. */
    private static void serve(PolicyServerKey key, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/_matrix/key/v2/server", exchange -> {
            ObjectNode document = JSON.createObjectNode().put("server_name", HOMESERVER)
                    .put("valid_until_ts", System.currentTimeMillis() + 86_400_000L);
            document.putObject("verify_keys").putObject(KEY_ID).put("key", key.publicKeyBase64());
            document.putObject("old_verify_keys");
            String signature = key.sign(CanonicalJson.encode(document)); // before "signatures" is added
            document.putObject("signatures").putObject(HOMESERVER).put(KEY_ID, signature);
            byte[] body = JSON.writeValueAsBytes(document);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
