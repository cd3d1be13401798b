package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.hashing.Sha256;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An event as a homeserver sends it to be signed (a PDU), checked and hashed once: what the
 * signature will cover, its reference hash, its event ID, and whether its content matches its
 * content hash.
 *
 * <p>The content hash matters because a policy server signs the event's <em>redacted</em> form,
 * which leaves the content out but keeps {@code hashes}: a signature given to an event whose content
 * does not match its hash would be just as valid on the event carrying the content the hash is of,
 * which nobody judged. Such an event is refused ({@link BadJsonException}) before any module sees it.
 *
 * <p>The reference hash (spec, "Calculating the reference hash for an event") is the SHA-256 of the
 * very bytes the signature covers, so it is computed once. From room version 3 it <em>is</em> the
 * event ID; in versions 1 and 2 the event names its own ID, which is kept as sent but never trusted
 * as a cache key.
 *
 * @param json          the event as sent; treat as read-only
 * @param roomVersion   its room's version
 * @param eventId       its event ID: computed from version 3 on, as sent in versions 1 and 2
 * @param referenceHash the SHA-256 of {@link #signedBytes}, unpadded URL-safe base64: the key to cache answers by
 * @param signedBytes   what a signature covers ({@link EventSigner#signedBytes})
 */
public record Pdu(ObjectNode json, String roomVersion, String eventId, String referenceHash, byte[] signedBytes) {
    /** The state event that names a room's policy server, which policy servers are never asked to sign. */
    public static final Set<String> POLICY_EVENT_TYPES = Set.of("m.room.policy", "org.matrix.msc4284.policy");

    private static final Base64.Encoder STANDARD = Base64.getEncoder().withoutPadding();
    private static final Base64.Encoder URL_SAFE = Base64.getUrlEncoder().withoutPadding();
    /** What the content hash leaves out, as Synapse's {@code compute_content_hash}. */
    private static final Set<String> NOT_HASHED = Set.of("age_ts", "unsigned", "signatures", "hashes", "outlier", "destinations");

    public Pdu {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(roomVersion, "roomVersion");
    }

    /**
     * Checks the event's shape for its room version, hashes it and checks its content hash.
     *
     * @throws BadJsonException            when a required key is missing or of the wrong type, when the
     *                                     event holds what canonical JSON cannot (a float, a huge integer),
     *                                     or when its content does not match its content hash
     * @throws UnknownRoomVersionException for a room version the redaction rules do not know
     */
    public static Pdu of(String roomVersion, ObjectNode json) {
        if (!(isCreateEvent(json) && Redaction.createHasNoRoomId(roomVersion))) {
            requireString(json, "room_id");
        }
        requireString(json, "sender");
        requireString(json, "type");
        require(json, "content", JsonNode::isObject, "an object");
        require(json, "origin_server_ts", JsonNode::isIntegralNumber, "an integer");
        require(json, "depth", JsonNode::isIntegralNumber, "an integer");
        require(json, "prev_events", JsonNode::isArray, "an array");
        require(json, "auth_events", JsonNode::isArray, "an array");
        JsonNode hashes = require(json, "hashes", JsonNode::isObject, "an object");
        JsonNode contentHash = hashes.get("sha256");
        if (contentHash == null || !contentHash.isString()) {
            throw new BadJsonException("The event has no content hash (hashes.sha256)");
        }
        if (json.has("state_key") && !json.get("state_key").isString()) {
            throw new BadJsonException("The event's state_key must be a string");
        }
        boolean namesItsOwnId = "1".equals(roomVersion) || "2".equals(roomVersion);
        if (namesItsOwnId) {
            requireString(json, "event_id");
        }
        byte[] signed = EventSigner.signedBytes(roomVersion, json);
        byte[] reference = Sha256.of(signed);
        if (!MessageDigest.isEqual(decode(contentHash.stringValue()), contentHash(json))) {
            throw new BadJsonException("The event's content does not match its content hash (hashes.sha256)");
        }
        String eventId = switch (roomVersion) {
            case "1", "2" -> json.get("event_id").stringValue();
            case "3" -> "$" + STANDARD.encodeToString(reference);
            default -> "$" + URL_SAFE.encodeToString(reference);
        };
        return new Pdu(json, roomVersion, eventId, URL_SAFE.encodeToString(reference), signed);
    }

    /** Its room's ID: as the event names it, or for a create event that names none (room version 12), its own reference hash. */
    public String roomId() {
        JsonNode roomId = json.get("room_id");
        return roomId != null && roomId.isString() ? roomId.stringValue() : "!" + referenceHash;
    }

    /**
     * The room version a create event that names no room declares ({@code content.room_version}),
     * when that version's create events name none: the room ID is then the event's own reference hash,
     * so the version must come from the event. Empty for any other event.
     */
    public static Optional<String> versionOfRoomlessCreate(ObjectNode json) {
        if (json.has("room_id") || !isCreateEvent(json)) {
            return Optional.empty();
        }
        JsonNode version = json.path("content").get("room_version");
        if (version == null || !version.isString() || !Redaction.KNOWN_ROOM_VERSIONS.contains(version.stringValue())
                || !Redaction.createHasNoRoomId(version.stringValue())) {
            return Optional.empty();
        }
        return Optional.of(version.stringValue());
    }

    private static boolean isCreateEvent(ObjectNode json) {
        JsonNode type = json.get("type");
        JsonNode stateKey = json.get("state_key");
        return type != null && type.isString() && type.stringValue().equals("m.room.create")
                && stateKey != null && stateKey.isString() && stateKey.stringValue().isEmpty();
    }

    public String type() {
        return json.get("type").stringValue();
    }

    /**
     * Whether this is the state event naming the room's policy server ({@code m.room.policy}, or its
     * unstable {@code org.matrix.msc4284.policy}, with an empty state key), which the spec says a
     * policy server is never asked to sign: the room's escape hatch from its policy server.
     */
    public static boolean isPolicyStateEvent(ObjectNode json) {
        JsonNode type = json.get("type");
        JsonNode stateKey = json.get("state_key");
        return type != null && type.isString() && POLICY_EVENT_TYPES.contains(type.stringValue())
                && stateKey != null && stateKey.isString() && stateKey.stringValue().isEmpty();
    }

    /** The SHA-256 of the event without what the content hash leaves out, in canonical JSON. */
    private static byte[] contentHash(ObjectNode json) {
        ObjectNode hashed = json.deepCopy();
        NOT_HASHED.forEach(hashed::remove);
        return Sha256.of(CanonicalJson.encode(hashed));
    }

    /** Unpadded base64, as the spec writes hashes; nothing for what is not base64. */
    private static byte[] decode(String unpadded) {
        try {
            return Base64.getDecoder().decode(unpadded.replace('-', '+').replace('_', '/'));
        } catch (IllegalArgumentException notBase64) {
            return new byte[0];
        }
    }

    private static void requireString(ObjectNode json, String key) {
        require(json, key, JsonNode::isString, "a string");
    }

    private static JsonNode require(ObjectNode json, String key, java.util.function.Predicate<JsonNode> shape, String what) {
        JsonNode value = json.get(key);
        if (value == null || !shape.test(value)) {
            throw new BadJsonException("The event's " + key + " must be " + what);
        }
        return value;
    }


    @Override
    public boolean equals(Object other) {
        return other instanceof Pdu pdu && referenceHash.equals(pdu.referenceHash) && roomVersion.equals(pdu.roomVersion);
    }

    @Override
    public int hashCode() {
        return referenceHash.hashCode();
    }

    @Override
    public String toString() {
        return "Pdu[" + eventId + " in " + roomId() + ", room version " + roomVersion + "]";
    }
}
