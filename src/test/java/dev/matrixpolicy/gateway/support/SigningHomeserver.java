package dev.matrixpolicy.gateway.support;

import com.sun.net.httpserver.HttpServer;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.policyserver.CanonicalJson;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A homeserver as a policy server meets one: it publishes its signing key on a real HTTP server
 * ({@code GET /_matrix/key/v2/server}, self-signed as the spec says), builds events with their
 * content hash, and signs its federation requests with {@code X-Matrix}, as Synapse does.
 */
public final class SigningHomeserver implements AutoCloseable {
    private static final JsonMapper JSON = EventJson.MAPPER;
    public static final String KEY_ID = "ed25519:test";

    private final String name;
    private final PolicyServerKey key;
    private final HttpServer server;
    private final AtomicInteger keyFetches = new AtomicInteger();

    public SigningHomeserver(String name) throws IOException {
        this.name = name;
        byte[] seed = new byte[32];
        new SecureRandom().nextBytes(seed);
        this.key = PolicyServerKey.fromSeed(seed);
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/_matrix/key/v2/server", exchange -> {
            keyFetches.incrementAndGet();
            byte[] body = JSON.writeValueAsBytes(keyDocument());
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    public String name() {
        return name;
    }

    /** Its public key, unpadded base64, as its key document lists it. */
    public String publicKeyBase64() {
        return key.publicKeyBase64();
    }

    /** The base URL to configure as this server's address. */
    public URI address() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public int keyFetches() {
        return keyFetches.get();
    }

    private ObjectNode keyDocument() {
        ObjectNode document = JSON.createObjectNode().put("server_name", name)
                .put("valid_until_ts", System.currentTimeMillis() + 86_400_000L);
        document.putObject("verify_keys").putObject(KEY_ID).put("key", key.publicKeyBase64());
        document.putObject("old_verify_keys");
        String signature = key.sign(CanonicalJson.encode(document));
        document.putObject("signatures").putObject(name).put(KEY_ID, signature);
        return document;
    }

    /**
     * A message event of {@code sender} in {@code roomId}, with its content hash and this server's
     * signature, as this server would send it to be signed.
     */
    public ObjectNode message(String roomVersion, String roomId, String sender, String body) {
        ObjectNode content = JSON.createObjectNode().put("msgtype", "m.text").put("body", body);
        return event(roomVersion, roomId, sender, "m.room.message", content);
    }

    public ObjectNode event(String roomVersion, String roomId, String sender, String type, ObjectNode content) {
        ObjectNode event = JSON.createObjectNode().put("room_id", roomId).put("sender", sender).put("type", type)
                .put("origin_server_ts", System.currentTimeMillis()).put("depth", 12);
        event.set("content", content);
        if ("1".equals(roomVersion) || "2".equals(roomVersion)) { // events referenced by [event ID, hashes]
            event.put("event_id", "$" + Long.toHexString(System.nanoTime()) + ":" + name);
            event.putArray("prev_events").add(reference("$prev:" + name));
            event.putArray("auth_events").add(reference("$create:" + name)).add(reference("$power:" + name))
                    .add(reference("$member:" + name));
        } else {
            event.putArray("prev_events").add("$prev");
            event.putArray("auth_events").add("$create").add("$power").add("$member");
        }
        return hashAndSign(roomVersion, event);
    }

    /** A room version 1 or 2 reference to event {@code eventId}: the ID and the event's hashes. */
    private static ArrayNode reference(String eventId) {
        ArrayNode reference = JSON.createArrayNode().add(eventId);
        reference.addObject().put("sha256", Base64.getEncoder().withoutPadding().encodeToString(sha256(eventId.getBytes())));
        return reference;
    }

    /**
     * A room version 12 {@code m.room.create} event: no {@code room_id}, the room's ID being the event's
     * own reference hash (MSC4291), so a fixed timestamp gives a fixed room ID.
     */
    public ObjectNode create(String sender, long originServerTs) {
        ObjectNode event = JSON.createObjectNode().put("sender", sender).put("type", "m.room.create").put("state_key", "")
                .put("origin_server_ts", originServerTs).put("depth", 1);
        event.putObject("content").put("room_version", "12");
        event.putArray("prev_events");
        event.putArray("auth_events");
        return hashAndSign("12", event);
    }

    /** Sets the event's content hash and this server's signature, as after any change to it. */
    public ObjectNode hashAndSign(String roomVersion, ObjectNode event) {
        event.remove("signatures");
        event.remove("hashes");
        ObjectNode hashed = EventJson.copy(event);
        hashed.remove("unsigned");
        event.putObject("hashes").put("sha256", Base64.getEncoder().withoutPadding().encodeToString(sha256(CanonicalJson.encode(hashed))));
        String signature = key.sign(EventSigner.signedBytes(roomVersion, event));
        event.putObject("signatures").putObject(name).put(KEY_ID, signature);
        return event;
    }

    /**
     * Adds this server's signature to those the event carries, as a second server that must sign it
     * does (the server of a v1 or v2 event ID, the server authorising a restricted join).
     */
    public ObjectNode countersign(String roomVersion, ObjectNode event) {
        String signature = key.sign(EventSigner.signedBytes(roomVersion, event));
        ((ObjectNode) event.get("signatures")).putObject(name).put(KEY_ID, signature);
        return event;
    }

    /** A POST of {@code body} to {@code destination}, signed by this server, to {@code base} + {@code path}. */
    public HttpRequest signedPost(URI base, String path, String destination, JsonNode body) {
        return HttpRequest.newBuilder(base.resolve(path))
                .header("Authorization", authorization("POST", path, destination, body))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
    }

    /** The {@code X-Matrix} header for a request, as Synapse's federation client writes it. */
    public String authorization(String method, String uri, String destination, JsonNode body) {
        ObjectNode request = JSON.createObjectNode().put("method", method).put("uri", uri).put("origin", name)
                .put("destination", destination);
        if (body != null) {
            request.set("content", body);
        }
        String signature = key.sign(CanonicalJson.encode(request));
        return "X-Matrix origin=\"" + name + "\",destination=\"" + destination + "\",key=\"" + KEY_ID + "\",sig=\"" + signature + "\"";
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }


    @Override
    public void close() {
        server.stop(0);
    }
}
