package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
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
 * @param signers       the servers whose valid signatures every homeserver requires of it, each once ({@link EventAuthenticator})
 */
public record Pdu(ObjectNode json, String roomVersion, String eventId, String referenceHash, byte[] signedBytes,
                  List<Signer> signers) {
    /** The most bytes a PDU may take in canonical JSON, as Synapse and the spec limit it. */
    public static final int MAX_BYTES = 65_536;
    /** The state event that names a room's policy server, which policy servers are never asked to sign. */
    public static final Set<String> POLICY_EVENT_TYPES = Set.of("m.room.policy", "org.matrix.msc4284.policy");

    private static final Base64.Encoder STANDARD = Base64.getEncoder().withoutPadding();
    private static final Base64.Encoder URL_SAFE = Base64.getUrlEncoder().withoutPadding();
    /** Room versions with restricted join rules, whose joins may be authorised by another server's user (MSC3083). */
    private static final Set<String> RESTRICTED_JOIN_RULE = Set.of("8", "9", "10", "11", "12");
    private static final String AUTHORISING_USER = "join_authorised_via_users_server";
    /**
     * The top-level keys that neither the content hash nor any signature covers (the redacted form
     * drops them): whatever the asking server attached, so a homeserver's own copy may differ.
     */
    public static final Set<String> UNCOVERED = Set.of("age_ts", "unsigned", "outlier", "destinations");
    /** What the content hash leaves out, as Synapse's {@code compute_content_hash}. */
    private static final Set<String> NOT_HASHED = Stream.concat(UNCOVERED.stream(), Stream.of("signatures", "hashes"))
            .collect(Collectors.toUnmodifiableSet());
    /** The longest event type Synapse accepts ({@code _check_size_limits}), in UTF-8 bytes. */
    private static final int MAX_TYPE_BYTES = 255;

    public Pdu {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(roomVersion, "roomVersion");
        signers = List.copyOf(signers);
    }

    /**
     * A server whose valid signature an event must carry, and why.
     *
     * @param serverName as the ID it is taken from names it, port included
     * @param role       why it must sign
     */
    public record Signer(String serverName, Role role) {
        /** Why a server must sign, in Synapse's words ({@code _check_sigs_on_pdu}). */
        public enum Role {
            /** The sender's server, unless the event is an invite made from a third-party invite. */
            SENDER_DOMAIN("its sender's server"),
            /** In room versions 1 and 2, the server that made up the event ID, when not the sender's. */
            EVENT_DOMAIN("the server named in its event ID"),
            /** For a join under a restricted join rule, the server of the user who authorised it. */
            AUTHORISING_SERVER("the server of the user authorising the join (join_authorised_via_users_server)");

            private final String description;

            Role(String description) {
                this.description = description;
            }

            /** The server, as a refusal names it: "The event is not signed by " + this. */
            public String description() {
                return description;
            }
        }
    }

    /**
     * Checks the event's shape for its room version, hashes it and checks its content hash.
     *
     * <p>The shape is the spec's PDU for the room version, checked as the gateway's callback API
     * checks IDs ({@link MatrixIds}): {@code room_id} a room ID (a room version 12 create event
     * must leave it out, its room being the one its hash names), {@code sender} a user ID, {@code type} a non-empty string of at most 255
     * bytes, {@code depth} and {@code origin_server_ts} integers of 0 or more, and {@code prev_events}
     * and {@code auth_events} lists of event IDs, from room version 3 on, or of {@code [event_id,
     * hashes]} pairs in versions 1 and 2, whose {@code event_id} must name its server. A signature is
     * given to what the event claims, so an event whose sender is no user (or a banned user's ID with a
     * character added) is never signed. A join's {@code join_authorised_via_users_server}, in the room
     * versions that have restricted join rules, must be a user ID: its server must sign the event.
     *
     * @throws BadJsonException            when a required key is missing or malformed, naming it, when the
     *                                     event holds what canonical JSON cannot (a float, a huge integer),
     *                                     or when its content does not match its content hash
     * @throws UnknownRoomVersionException for a room version the redaction rules do not know
     */
    public static Pdu of(String roomVersion, ObjectNode json) {
        boolean namesItsOwnId = namesItsOwnId(roomVersion);
        if (!(EventJson.isCreateEvent(json) && Redaction.createHasNoRoomId(roomVersion))) {
            requireId("room_id", json.get("room_id"), MatrixIds::roomId);
        } else if (json.has("room_id")) {
            // its room is the one its hash names, whatever it says: as Synapse's validate_optional_room_id, refuse it
            throw new BadJsonException("A room version " + roomVersion + " create event must not have a room_id");
        }
        requireId("sender", json.get("sender"), MatrixIds::userId);
        JsonNode type = require(json, "type", JsonNode::isString, "a string");
        if (type.stringValue().isEmpty() || type.stringValue().getBytes(StandardCharsets.UTF_8).length > MAX_TYPE_BYTES) {
            throw new BadJsonException("The event's type must be a string of 1 to " + MAX_TYPE_BYTES + " bytes");
        }
        require(json, "content", JsonNode::isObject, "an object");
        require(json, "origin_server_ts", Pdu::isNonNegativeInteger, "an integer of 0 or more");
        require(json, "depth", Pdu::isNonNegativeInteger, "an integer of 0 or more");
        Predicate<JsonNode> isReference = namesItsOwnId ? Pdu::isEventIdAndHashes : Pdu::isEventId;
        String references = namesItsOwnId ? "a list of [event ID, hashes] pairs" : "a list of event IDs";
        for (String key : new String[] {"prev_events", "auth_events"}) {
            require(json, key, events -> events.isArray() && events.valueStream().allMatch(isReference), references);
        }
        JsonNode hashes = require(json, "hashes", JsonNode::isObject, "an object");
        JsonNode contentHash = hashes.get("sha256");
        if (contentHash == null || !contentHash.isString()) {
            throw new BadJsonException("The event has no content hash (hashes.sha256)");
        }
        if (json.has("state_key") && !json.get("state_key").isString()) {
            throw new BadJsonException("The event's state_key must be a string");
        }
        List<Signer> signers = signersOf(roomVersion, json);
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
        return new Pdu(json, roomVersion, eventId, URL_SAFE.encodeToString(reference), signed, signers);
    }

    /**
     * The servers that must sign the event, by the rules {@link EventAuthenticator} gives (Synapse's
     * {@code _check_sigs_on_pdu}), each once and in that order. As in Synapse, an invite made from a
     * third-party invite needs no signature at all in versions 3 and later, nor in 1 and 2 when its
     * event ID names its sender's server.
     *
     * @throws BadJsonException when the event ID (versions 1 and 2) or the authorising user names no
     *                          server, which Synapse refuses too
     */
    private static List<Signer> signersOf(String roomVersion, ObjectNode json) {
        String senderDomain = MatrixIds.serverNameOf(json.get("sender").stringValue());
        JsonNode content = json.get("content");
        Map<String, Signer.Role> signers = new LinkedHashMap<>();
        if (!(isMember(json, "invite") && content.has("third_party_invite"))) {
            signers.put(senderDomain, Signer.Role.SENDER_DOMAIN);
        }
        if (namesItsOwnId(roomVersion)) {
            String eventDomain = requireId("event_id", json.get("event_id"), id -> MatrixIds.serverNameOf(MatrixIds.eventId(id)));
            if (!eventDomain.equals(senderDomain)) {
                signers.put(eventDomain, Signer.Role.EVENT_DOMAIN);
            }
        }
        if (RESTRICTED_JOIN_RULE.contains(roomVersion) && isMember(json, "join") && content.has(AUTHORISING_USER)) {
            String authorisingServer = requireId("content." + AUTHORISING_USER, content.get(AUTHORISING_USER), Pdu::serverOfAuthoriser);
            signers.putIfAbsent(authorisingServer, Signer.Role.AUTHORISING_SERVER);
        }
        return signers.entrySet().stream().map(signer -> new Signer(signer.getKey(), signer.getValue())).toList();
    }

    /**
     * The server of a restricted join's authorising user, whose localpart is read as Synapse reads a
     * member's, except that a control character is refused: the callbacks take one, since a 400 there
     * is a yes to a module failing open, but a homeserver takes the policy server's refusal as a no.
     */
    private static String serverOfAuthoriser(String id) {
        if (!MatrixIds.isTextWithoutControls(id)) {
            throw new IllegalArgumentException("not a valid Matrix user ID: it holds a control character");
        }
        return MatrixIds.serverNameOf(MatrixIds.userIdAsSynapseTakesIt(id));
    }

    /** Room versions 1 and 2, whose events name their own IDs, {@code $opaque:server}. */
    private static boolean namesItsOwnId(String roomVersion) {
        return "1".equals(roomVersion) || "2".equals(roomVersion);
    }

    private static boolean isMember(ObjectNode json, String membership) {
        JsonNode value = json.get("content").get("membership");
        return "m.room.member".equals(json.get("type").stringValue()) && value != null && value.isString()
                && value.stringValue().equals(membership);
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
        if (json.has("room_id") || !EventJson.isCreateEvent(json)) {
            return Optional.empty();
        }
        JsonNode version = json.path("content").get("room_version");
        if (version == null || !version.isString() || !Redaction.KNOWN_ROOM_VERSIONS.contains(version.stringValue())
                || !Redaction.createHasNoRoomId(version.stringValue())) {
            return Optional.empty();
        }
        return Optional.of(version.stringValue());
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
        ObjectNode hashed = json.objectNode(); // what is left out is at the top: the rest is shared, not copied
        hashed.setAll(json);
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

    private static boolean isNonNegativeInteger(JsonNode value) {
        return value.isIntegralNumber() && value.canConvertToLong() && value.longValue() >= 0;
    }

    /** An event ID, as room versions 3 and later reference events. */
    private static boolean isEventId(JsonNode value) {
        return value.isString() && isValid(value.stringValue(), MatrixIds::eventId);
    }

    /** An {@code [event_id, hashes]} pair, as room versions 1 and 2 reference events. */
    private static boolean isEventIdAndHashes(JsonNode value) {
        return value.isArray() && value.size() == 2 && isEventId(value.get(0)) && value.get(1).isObject();
    }

    private static boolean isValid(String id, UnaryOperator<String> validation) {
        try {
            validation.apply(id);
            return true;
        } catch (IllegalArgumentException invalid) {
            return false;
        }
    }

    /** What {@code validation} (of {@link MatrixIds}) makes of the string {@code id} at {@code key}; else says why not. */
    private static String requireId(String key, JsonNode id, UnaryOperator<String> validation) {
        if (id == null || !id.isString()) {
            throw new BadJsonException("The event's " + key + " must be a string");
        }
        try {
            return validation.apply(id.stringValue());
        } catch (IllegalArgumentException invalid) {
            throw new BadJsonException("The event's " + key + " is " + invalid.getMessage());
        }
    }

    private static JsonNode require(ObjectNode json, String key, Predicate<JsonNode> shape, String what) {
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
