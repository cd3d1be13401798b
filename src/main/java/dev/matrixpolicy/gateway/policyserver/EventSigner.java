package dev.matrixpolicy.gateway.policyserver;

import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Signs events as a room's policy server: the spec's "Signing events" steps, with the policy
 * server's key. The answer of {@code /_matrix/policy/v1/sign} is then {@code {"<policy server
 * name>": {"ed25519:policy_server": sign(...)}}}.
 */
public final class EventSigner {
    private final PolicyServerKey key;

    public EventSigner(PolicyServerKey key) {
        this.key = Objects.requireNonNull(key, "key");
    }

    /**
     * The signature (unpadded base64, key ID {@link PolicyServerKey#KEY_ID}) of {@code event}, a PDU
     * of a room of {@code roomVersion}.
     *
     * @throws UnknownRoomVersionException for a room version {@link Redaction} does not know
     * @throws BadJsonException when the event is not an event or not canonical-JSON-able
     */
    public String sign(String roomVersion, JsonNode event) {
        return key.sign(signedBytes(roomVersion, event));
    }

    /** The signature of an event already checked and hashed: {@link Pdu#signedBytes()}, signed. */
    public String sign(Pdu pdu) {
        return key.sign(pdu.signedBytes());
    }

    /**
     * What a signature covers: the redacted event without {@code signatures} and {@code unsigned},
     * in canonical JSON.
     */
    public static byte[] signedBytes(String roomVersion, JsonNode event) {
        ObjectNode redacted = Redaction.redact(roomVersion, event);
        redacted.remove("signatures");
        redacted.remove("unsigned");
        return CanonicalJson.encode(redacted);
    }
}
