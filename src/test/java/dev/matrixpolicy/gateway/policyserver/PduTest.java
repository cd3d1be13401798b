package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
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

        ObjectNode old = roomVersion1Event().put("event_id", "$claimed:hs");
        Pdu pdu = Pdu.of("1", withContentHash(old));
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
        assertThatThrownBy(() -> Pdu.of("1", roomVersion1Event())).isInstanceOf(BadJsonException.class)
                .hasMessageContaining("event_id");
    }

    /** A message of room version 1, which references events by [event ID, hashes] pairs, without its own event ID. */
    private static ObjectNode roomVersion1Event() {
        ObjectNode event = event("hi");
        event.putArray("prev_events").addArray().add("$p:hs").addObject().put("sha256", "aGFzaA");
        event.putArray("auth_events").addArray().add("$a:hs").addObject().put("sha256", "aGFzaA");
        return event;
    }

    /** {@code event} with {@code key} set to the JSON {@code value}, hashed again: a homeserver's own malformed event. */
    private static ObjectNode with(ObjectNode event, String key, String value) {
        event.set(key, JSON.readTree(value));
        return withContentHash(event);
    }

    /** Its server must sign the join (Synapse's {@code _check_sigs_on_pdu}), so it must name one; Synapse refuses it too. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"mod\"", "\"@mod\"", "\"mod:hs\"", "\"@mod:\"", "42", "null"})
    void aJoinsAuthorisingUserThatIsNoUserIdIsBadJsonNamingIt(String authoriser) {
        ObjectNode join = with(event("x").put("type", "m.room.member").put("state_key", "@u:hs"), "content",
                "{\"membership\": \"join\", \"join_authorised_via_users_server\": " + authoriser + "}");

        assertThatThrownBy(() -> Pdu.of("10", join)).isInstanceOf(BadJsonException.class)
                .hasMessageStartingWith("The event's content.join_authorised_via_users_server ");
        assertThat(Pdu.of("7", join).signers()).as("room version 7 has no restricted join rules").hasSize(1);
    }

    /** In room versions 1 and 2 the server named in the event ID must sign the event, so it must name one; Synapse refuses it too. */
    /**
     * Synapse would take a control character in the authorising user's localpart, and so do the
     * callbacks, where a 400 is a yes to a module failing open; the policy server stays strict, as a
     * homeserver takes its refusal as a no.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"@mo\\u0000d:hs\"", "\"@mo\\nd:hs\"", "\"@mo\u0085d:hs\""})
    void aJoinsAuthorisingUserWithAControlCharacterIsBadJson(String authoriser) {
        ObjectNode join = with(event("x").put("type", "m.room.member").put("state_key", "@u:hs"), "content",
                "{\"membership\": \"join\", \"join_authorised_via_users_server\": " + authoriser + "}");

        assertThatThrownBy(() -> Pdu.of("10", join)).isInstanceOf(BadJsonException.class)
                .hasMessage("The event's content.join_authorised_via_users_server is not a valid Matrix user ID: it holds a control character");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"$made\"", "\"$made:\"", "\"$made:hs:port\""})
    void inRoomVersions1And2AnEventIdNamingNoServerIsBadJson(String eventId) {
        ObjectNode event = with(roomVersion1Event(), "event_id", eventId);

        assertThatThrownBy(() -> Pdu.of("1", event)).isInstanceOf(BadJsonException.class).hasMessageStartingWith("The event's event_id ");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"\"@spammer:evil.example\\n\"", "\"@spammer:evil.example \"", "\"@spammer:evil.example\\u0000\"",
            "\"\"", "\"x\"", "\"@\"", "\"!a:b:c\"", "\"@spammer:\"", "\"@:evil.example\"", "3"})
    void aSenderThatIsNoUserIdIsBadJsonNamingTheSender(String sender) {
        ObjectNode event = with(event("buy now"), "sender", sender);

        assertThatThrownBy(() -> Pdu.of("10", event)).isInstanceOf(BadJsonException.class)
                .hasMessageStartingWith("The event's sender ");
    }

    @Test
    void aSenderLongerThanTheSpecsLimitIsBadJson() {
        ObjectNode event = withContentHash(event("buy now").put("sender", "@" + "a".repeat(5000) + ":evil.example"));

        assertThatThrownBy(() -> Pdu.of("10", event)).isInstanceOf(BadJsonException.class)
                .hasMessage("The event's sender is not a valid Matrix user ID: longer than 255 bytes");
    }

    @Test
    void aRoomIdThatIsNoRoomIdOrAnEmptyTypeIsBadJsonNamingIt() {
        assertThatThrownBy(() -> Pdu.of("10", with(event("x"), "room_id", "\"!r:hs\\n\""))).isInstanceOf(BadJsonException.class)
                .hasMessageStartingWith("The event's room_id is not a valid Matrix room ID");
        assertThatThrownBy(() -> Pdu.of("10", with(event("x"), "room_id", "\"#alias:hs\""))).isInstanceOf(BadJsonException.class)
                .hasMessageStartingWith("The event's room_id is not a valid Matrix room ID");
        assertThatThrownBy(() -> Pdu.of("10", with(event("x"), "type", "\"\""))).isInstanceOf(BadJsonException.class)
                .hasMessage("The event's type must be a string of 1 to 255 bytes");
        assertThatThrownBy(() -> Pdu.of("10", with(event("x"), "type", "\"" + "t".repeat(256) + "\"")))
                .isInstanceOf(BadJsonException.class).hasMessageContaining("type");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            depth            | -1
            depth            | '"3"'
            origin_server_ts | -1
            origin_server_ts | '"1700000000000"'
            """)
    void depthAndOriginServerTsMustBeIntegersOfZeroOrMore(String key, String value) {
        ObjectNode event = with(event("x"), key, value);

        assertThatThrownBy(() -> Pdu.of("10", event)).isInstanceOf(BadJsonException.class)
                .hasMessage("The event's " + key + " must be an integer of 0 or more");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            prev_events | [1]
            prev_events | [null]
            prev_events | [[]]
            prev_events | '["not an event ID"]'
            prev_events | '[["$p:hs", {}]]'
            auth_events | [1]
            auth_events | [null]
            auth_events | [[]]
            auth_events | '{"$a": 1}'
            """)
    void fromRoomVersion3EventsAreReferencedByEventIdsOnly(String key, String value) {
        ObjectNode event = with(event("x"), key, value);

        assertThatThrownBy(() -> Pdu.of("10", event)).isInstanceOf(BadJsonException.class)
                .hasMessage("The event's " + key + " must be a list of event IDs");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            prev_events | '["$p:hs"]'
            prev_events | '[["$p:hs"]]'
            prev_events | '[["$p:hs", {}, {}]]'
            prev_events | '[["p:hs", {}]]'
            auth_events | '[["$a:hs", "hash"]]'
            auth_events | [[null, {}]]
            """)
    void inRoomVersions1And2EventsAreReferencedByEventIdAndHashesPairs(String key, String value) {
        ObjectNode event = with(roomVersion1Event().put("event_id", "$e:hs"), key, value);

        assertThatThrownBy(() -> Pdu.of("1", event)).isInstanceOf(BadJsonException.class)
                .hasMessage("The event's " + key + " must be a list of [event ID, hashes] pairs");
        assertThat(Pdu.of("1", withContentHash(roomVersion1Event().put("event_id", "$e:hs")))).isNotNull();
    }

    @Test
    void aRoomVersion12CreateEventThatNamesARoomIsBadJsonSinceItsRoomIsTheOneItsHashNames() {
        ObjectNode create = event("x").put("type", "m.room.create").put("state_key", "");
        create.putObject("content").put("room_version", "12");
        ObjectNode roomless = create.deepCopy();
        roomless.remove("room_id");
        withContentHash(roomless);
        ObjectNode naming = withContentHash(create.put("room_id", "!served:hs"));

        assertThat(Pdu.of("12", roomless).roomId()).isEqualTo("!" + Pdu.of("12", roomless).referenceHash());
        assertThatThrownBy(() -> Pdu.of("12", naming)).isInstanceOf(BadJsonException.class)
                .hasMessage("A room version 12 create event must not have a room_id");
        assertThat(Pdu.of("11", naming).roomId()).isEqualTo("!served:hs");
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
