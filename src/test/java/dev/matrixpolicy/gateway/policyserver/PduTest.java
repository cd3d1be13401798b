package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class PduTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A message event with a correct content hash, as a homeserver builds it. */
    private static ObjectNode event(String body) {
        ObjectNode event = (ObjectNode) JSON.readTree(("{'room_id': '!r:hs', 'sender': '@u:hs', 'type': 'm.room.message',"
                + " 'origin_server_ts': 1700000000000, 'depth': 3, 'prev_events': ['$p'], 'auth_events': ['$a'],"
                + " 'content': {'body': '" + body + "'}, 'unsigned': {'age': 5}}").replace('\'', '"'));
        return withContentHash(event);
    }

    private static ObjectNode withContentHash(ObjectNode event) {
        ObjectNode hashed = event.deepCopy();
        hashed.remove("unsigned");
        hashed.remove("hashes");
        event.putObject("hashes").put("sha256", Base64.getEncoder().withoutPadding().encodeToString(sha256(CanonicalJson.encode(hashed))));
        return event;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (Exception impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    @Test
    void fromRoomVersion4TheEventIdIsTheUrlSafeReferenceHashOfWhatIsSigned() {
        Pdu pdu = Pdu.of("10", event("hello"));

        byte[] reference = sha256(EventSigner.signedBytes("10", pdu.json()));
        assertThat(pdu.eventId()).isEqualTo("$" + Base64.getUrlEncoder().withoutPadding().encodeToString(reference));
        assertThat(pdu.referenceHash()).isEqualTo(pdu.eventId().substring(1));
    }

    @Test
    void roomVersion3UsesStandardBase64AndVersions1And2TheirOwnEventId() {
        ObjectNode event = event("hello");
        byte[] reference = sha256(EventSigner.signedBytes("3", event));
        assertThat(Pdu.of("3", event).eventId()).isEqualTo("$" + Base64.getEncoder().withoutPadding().encodeToString(reference));

        ObjectNode old = withContentHash(event("hi").put("event_id", "$claimed:hs"));
        Pdu pdu = Pdu.of("1", old);
        assertThat(pdu.eventId()).isEqualTo("$claimed:hs");
        assertThat(pdu.referenceHash()).doesNotContain("claimed");
    }

    @Test
    void contentThatDoesNotMatchTheContentHashIsRefused() {
        ObjectNode event = event("hello");
        ((ObjectNode) event.get("content")).put("body", "swapped");

        assertThatThrownBy(() -> Pdu.of("10", event)).isInstanceOf(BadJsonException.class).hasMessageContaining("content hash");
    }

    @Test
    void whatTheContentHashLeavesOutMayChange() {
        ObjectNode event = event("hello");
        event.putObject("signatures").putObject("hs").put("ed25519:a", "sig");
        ((ObjectNode) event.get("unsigned")).put("age", 99);

        assertThat(Pdu.of("10", event).eventId()).isEqualTo(Pdu.of("10", event("hello").put("origin_server_ts", 1700000000000L)).eventId());
    }

    @Test
    void aMissingOrMistypedRequiredKeyIsBadJson() {
        for (String key : new String[] {"room_id", "sender", "type", "content", "origin_server_ts", "depth", "prev_events",
                "auth_events", "hashes"}) {
            ObjectNode event = event("hello");
            event.remove(key);
            assertThatThrownBy(() -> Pdu.of("10", event)).as(key).isInstanceOf(BadJsonException.class).hasMessageContaining(key);
        }
        assertThatThrownBy(() -> Pdu.of("10", event("x").put("depth", "3"))).isInstanceOf(BadJsonException.class);
        assertThatThrownBy(() -> Pdu.of("1", event("x"))).isInstanceOf(BadJsonException.class).hasMessageContaining("event_id");
    }

    @Test
    void anUnknownRoomVersionIsRefused() {
        assertThatThrownBy(() -> Pdu.of("org.example.custom", event("x"))).isInstanceOf(UnknownRoomVersionException.class);
    }

    @Test
    void onlyThePolicyStateEventWithAnEmptyStateKeyIsThePolicyStateEvent() {
        assertThat(Pdu.isPolicyStateEvent(event("x").put("type", "m.room.policy").put("state_key", ""))).isTrue();
        assertThat(Pdu.isPolicyStateEvent(event("x").put("type", "org.matrix.msc4284.policy").put("state_key", ""))).isTrue();
        assertThat(Pdu.isPolicyStateEvent(event("x").put("type", "m.room.policy").put("state_key", "other"))).isFalse();
        assertThat(Pdu.isPolicyStateEvent(event("x").put("type", "m.room.policy"))).isFalse();
    }
}
