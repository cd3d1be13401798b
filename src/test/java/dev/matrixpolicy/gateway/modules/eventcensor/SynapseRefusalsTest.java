package dev.matrixpolicy.gateway.modules.eventcensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.matrix.EventJson;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Why Synapse 1.157 would refuse each replacement of {@link EventCensorEndToEndTest}, and with which status. */
class SynapseRefusalsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.modules.eventcensor.EventCensorEndToEndTest#replacementsSynapseRefuses")
    void eachReplacementIsRefusedForItsReasonWithTheStatusTheUserWouldSee(String name, String[] request, int status, String problem) {
        JsonNode body = JSON.readTree(request[0]);
        List<ClientEvent> state = body.get("state_events").valueStream().map(event -> new ClientEvent((ObjectNode) event)).toList();

        assertThat(SynapseRefusals.of(new ClientEvent((ObjectNode) body.get("event")), (ObjectNode) JSON.readTree(request[1]), state, "example.com"))
                .hasValueSatisfying(refusal -> {
                    assertThat(refusal.status()).isEqualTo(status);
                    assertThat(refusal.message()).contains(problem).endsWith("Synapse would end the user's request in a " + status);
                });
    }

    /** A create event of this room version, without {@code room_id} when its ID makes the room's (version 12). */
    private static ClientEvent createEvent(String roomVersion, boolean roomIdAsHash) {
        return new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$" + "a".repeat(43) + "\", \"sender\": \"@alice:example.com\", "
                + (roomIdAsHash ? "" : "\"room_id\": \"!room:example.com\", ")
                + "\"type\": \"m.room.create\", \"state_key\": \"\", \"content\": {\"room_version\": \"" + roomVersion + "\"}}"));
    }

    @Test
    void anyNewContentOfARoomVersion12CreateEventIsRefusedAsSynapseCannotRebuildIt() {
        ObjectNode content = (ObjectNode) JSON.readTree("{\"room_version\": \"12\", \"m.federate\": false}");

        assertThat(SynapseRefusals.of(createEvent("12", true), content, List.of(), "example.com"))
                .hasValueSatisfying(refusal -> assertThat(refusal.message())
                        .isEqualTo("the new content replaces that of a room version 12 create event, whose hash is the room's ID, "
                                + "and Synapse would end the user's request in a 500"));
    }

    @Test
    void newContentOfAnEarlierRoomVersionsCreateEventIsTaken() {
        ObjectNode content = (ObjectNode) JSON.readTree("{\"room_version\": \"11\", \"m.federate\": false}");

        assertThat(SynapseRefusals.of(createEvent("11", false), content, List.of(), "example.com")).isEmpty();
    }

    @Test
    void aNewContentThatChangesAMembershipIsRefusedWhileOneThatMasksTheDisplayNameIsTaken() {
        ClientEvent join = new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$join\", \"sender\": \"@alice:example.com\", "
                + "\"room_id\": \"!room:example.com\", \"type\": \"m.room.member\", \"state_key\": \"@alice:example.com\", "
                + "\"content\": {\"membership\": \"join\", \"displayname\": \"rude\"}}"));

        assertThat(SynapseRefusals.of(join, (ObjectNode) JSON.readTree("{\"membership\": \"leave\"}"), List.of(), "example.com"))
                .hasValueSatisfying(refusal -> assertThat(refusal.message()).isEqualTo("the new content of an m.room.member event changes "
                        + "'membership' from \"join\" to \"leave\", and Synapse would record a membership the user did not ask for "
                        + "(or refuse it as unauthorized with a 403)"));
        assertThat(SynapseRefusals.of(join, (ObjectNode) JSON.readTree("{\"membership\": \"join\", \"displayname\": \"****\"}"),
                List.of(), "example.com")).isEmpty();
    }

    @Test
    void aNewContentThatDropsOrChangesWhatEventAuthorizationReadsOfAMembershipIsRefusedWhileOneThatMasksTheRestIsTaken() {
        ClientEvent restrictedJoin = new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$join\", "
                + "\"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"type\": \"m.room.member\", "
                + "\"state_key\": \"@alice:example.com\", \"content\": {\"membership\": \"join\", \"displayname\": \"rude\", "
                + "\"join_authorised_via_users_server\": \"@mod:example.com\"}}"));
        ClientEvent thirdPartyInvite = new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$invite\", "
                + "\"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"type\": \"m.room.member\", "
                + "\"state_key\": \"@bob:example.com\", \"content\": {\"membership\": \"invite\", \"displayname\": \"rude\", "
                + "\"third_party_invite\": {\"display_name\": \"b...@example.com\", \"signed\": {\"mxid\": \"@bob:example.com\", "
                + "\"token\": \"abc\", \"signatures\": {\"id.example.com\": {\"ed25519:0\": \"sig\"}}}}}}"));

        assertThat(SynapseRefusals.of(restrictedJoin, (ObjectNode) JSON.readTree("{\"membership\": \"join\", \"displayname\": \"****\"}"),
                List.of(), "example.com")).hasValueSatisfying(refusal -> assertThat(refusal.message()).isEqualTo("the new content"
                        + " of an m.room.member event drops 'join_authorised_via_users_server', which event authorization reads, and"
                        + " Synapse would refuse the membership as unauthorized with a 403"));
        assertThat(SynapseRefusals.of(restrictedJoin, (ObjectNode) JSON.readTree("{\"membership\": \"join\", "
                + "\"join_authorised_via_users_server\": \"@****:example.com\"}"), List.of(), "example.com"))
                .hasValueSatisfying(refusal -> assertThat(refusal.status()).isEqualTo(403));
        assertThat(SynapseRefusals.of(thirdPartyInvite, (ObjectNode) JSON.readTree("{\"membership\": \"invite\", "
                + "\"third_party_invite\": {\"display_name\": \"****\", \"signed\": {}}}"), List.of(), "example.com"))
                .hasValueSatisfying(refusal -> assertThat(refusal.message()).startsWith("the new content of an m.room.member event"
                        + " changes 'third_party_invite.signed'"));

        assertThat(SynapseRefusals.of(restrictedJoin, (ObjectNode) JSON.readTree("{\"membership\": \"join\", \"displayname\": \"****\", "
                + "\"join_authorised_via_users_server\": \"@mod:example.com\"}"), List.of(), "example.com")).isEmpty();
        assertThat(SynapseRefusals.of(thirdPartyInvite, (ObjectNode) JSON.readTree("{\"membership\": \"invite\", "
                + "\"third_party_invite\": {\"display_name\": \"****\", \"signed\": {\"mxid\": \"@bob:example.com\", "
                + "\"token\": \"abc\", \"signatures\": {\"id.example.com\": {\"ed25519:0\": \"sig\"}}}}}"), List.of(),
                "example.com")).isEmpty();
    }

    @Test
    void aNewContentThatChangesTheRoomVersionOfACreateEventIsRefusedWhileOneThatKeepsItIsTaken() {
        ClientEvent create = new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$create\", \"sender\": \"@alice:example.com\", "
                + "\"room_id\": \"!room:example.com\", \"type\": \"m.room.create\", \"state_key\": \"\", "
                + "\"content\": {\"room_version\": \"10\", \"creator\": \"@alice:example.com\", \"m.federate\": true}}"));

        assertThat(SynapseRefusals.of(create, (ObjectNode) JSON.readTree("{\"room_version\": \"9\", \"m.federate\": true}"), List.of(),
                "example.com")).hasValueSatisfying(refusal -> assertThat(refusal.message()).startsWith("the new content of an"
                        + " m.room.create event changes 'room_version' from \"10\" to \"9\", and Synapse would store a room"));
        assertThat(SynapseRefusals.of(create, (ObjectNode) JSON.readTree("{\"room_version\": \"10\", \"m.federate\": false}"),
                List.of(), "example.com")).isEmpty();
    }

    /**
     * The refusal is the WARN line's cause ({@code unusable answer: ...}) and an explanation's: the values it
     * quotes are the censor's, as long as its reply (up to {@code max-reply-size}) and holding what it likes.
     */
    @Test
    void aRoomVersionTheRefusalQuotesIsCutAndItsControlsEscaped() {
        ClientEvent create = new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$create\", \"sender\": \"@alice:example.com\", "
                + "\"room_id\": \"!room:example.com\", \"type\": \"m.room.create\", \"state_key\": \"\", "
                + "\"content\": {\"room_version\": \"10\"}}"));
        ObjectNode replacement = JSON.createObjectNode().put("room_version", "\u202e" + "9".repeat(100_000));

        assertThat(SynapseRefusals.of(create, replacement, List.of(), "example.com")).hasValueSatisfying(refusal -> assertThat(refusal.message())
                .startsWith("the new content of an m.room.create event changes 'room_version' from \"10\" to \"\\u202E999")
                .contains("... (100003 characters), and Synapse would store a room").doesNotContain("\u202e").hasSizeLessThan(1_000));
    }

    /**
     * A censor's answer is read as deep as an event goes (EventJson): Jackson's own {@code equals} of two
     * trees recurses (a StackOverflowError some 5,000 levels down) and its {@code toString} refuses a tree
     * past 500 levels, and either would end the user's request in a 500 instead of the failure mode.
     */
    @Test
    void contentsNestedFarPastJacksonsDefaultDepthAreComparedAndQuotedWithoutFailing() {
        String deep = "[".repeat(20_000) + "]".repeat(20_000);
        ClientEvent create = new ClientEvent((ObjectNode) JSON.readTree("{\"event_id\": \"$create\", \"sender\": \"@alice:example.com\", "
                + "\"room_id\": \"!room:example.com\", \"type\": \"m.room.create\", \"state_key\": \"\", "
                + "\"content\": {\"room_version\": \"10\"}}"));
        ClientEvent deepInvite = new ClientEvent((ObjectNode) EventJson.MAPPER.readTree("{\"event_id\": \"$invite\", "
                + "\"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"type\": \"m.room.member\", "
                + "\"state_key\": \"@bob:example.com\", \"content\": {\"membership\": \"invite\", \"displayname\": \"rude\", "
                + "\"third_party_invite\": {\"display_name\": \"b...@example.com\", \"signed\": " + deep + "}}}"));
        ClientEvent deepRedaction = new ClientEvent((ObjectNode) EventJson.MAPPER.readTree("{\"event_id\": \"$redaction\", "
                + "\"sender\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"type\": \"m.room.redaction\", "
                + "\"content\": {\"redacts\": " + deep + ", \"reason\": \"rude\"}}"));

        assertThat(SynapseRefusals.of(create, (ObjectNode) EventJson.MAPPER.readTree("{\"room_version\": " + deep + "}"), List.of(),
                "example.com")).hasValueSatisfying(refusal -> assertThat(refusal.message())
                        .startsWith("the new content of an m.room.create event changes 'room_version' from \"10\" to [[[["));
        assertThat(SynapseRefusals.of(deepInvite, (ObjectNode) EventJson.MAPPER.readTree("{\"membership\": \"invite\", "
                + "\"third_party_invite\": {\"display_name\": \"****\", \"signed\": " + deep + "}}"), List.of(), "example.com"))
                .isEmpty();
        assertThat(SynapseRefusals.of(deepRedaction, (ObjectNode) EventJson.MAPPER.readTree("{\"redacts\": " + deep + ", "
                + "\"reason\": \"****\"}"), List.of(), "example.com")).isEmpty();
    }
}
