package dev.matrixpolicy.gateway.decisions;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InvolvedIdsTest {

    @Test
    void usersRoomsAliasesAndTheirServersAreReadFromTheIdArguments() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"inviter": "@alice:example.org", "invitee": "@bob:example.com", "room_id": "!r:example.com",
                 "room_alias": "#lobby:other.example"}"""));

        assertThat(ids.users()).containsExactly("@alice:example.org", "@bob:example.com");
        assertThat(ids.rooms()).containsExactly("!r:example.com", "#lobby:other.example");
        assertThat(ids.servers()).containsExactly("example.org", "example.com", "other.example");
    }

    @Test
    void anEventGivesItsSenderRoomAndAUserStateKeyButNeverItsContent() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"event": {"type": "m.room.member", "sender": "@mallory:evil.example", "room_id": "!r:example.com",
                           "state_key": "@victim:example.com",
                           "content": {"body": "ping @secret:content.example in !hidden:content.example", "membership": "invite"},
                           "prev_content": {"displayname": "@prev:content.example"},
                           "unsigned": {"invite_room_state": [{"sender": "@unsigned:content.example"}]}}}"""));

        assertThat(ids.users()).containsExactly("@mallory:evil.example", "@victim:example.com");
        assertThat(ids.rooms()).containsExactly("!r:example.com");
        assertThat(ids.toString()).doesNotContain("content.example");
    }

    /** {@code user_may_send_state_event}: a membership's state key, the user kicked, banned or invited, is the one asked about. */
    @Test
    void theStateKeyOfAStateEventAboutToBeSentGivesTheUserItNames() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"user_id": "@mod:example.org", "room_id": "!r:example.com", "event_type": "m.room.member",
                 "state_key": "@target:example.net", "content": {"membership": "ban", "reason": "@secret:content.example"}}"""));

        assertThat(ids.users()).containsExactly("@mod:example.org", "@target:example.net");
        assertThat(ids.servers()).containsExactly("example.org", "example.net", "example.com");
    }

    /** A decision about a user whose ID the spec's grammar does not allow, but Synapse hands on, is found by that user. */
    @Test
    void aNonCompliantUserIdSynapseHandsOnIsKept() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"inviter": "@\u00e9l\u00e8ve:evil.example", "invitee": "@:example.com", "room_id": "!r:example.com"}"""));

        assertThat(ids.users()).containsExactly("@\u00e9l\u00e8ve:evil.example", "@:example.com");
        assertThat(ids.servers()).containsExactly("evil.example", "example.com");
    }

    /** An appservice's user whose localpart holds a ':', and a client's invitee on no server, as Synapse reads them. */
    @Test
    void aUserIdSynapseTakesWithoutCheckingItsServerIsKeptWithTheServerSynapseReads() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"inviter": "@irc_a:b:example.org", "invitee": "@bob:", "room_id": "!r:example.com"}"""));

        assertThat(ids.users()).containsExactly("@irc_a:b:example.org", "@bob:");
        assertThat(ids.servers()).containsExactly("b:example.org", "", "example.com");
    }

    /**
     * Synapse hands on a user ID of any length (a client's invitee, an appservice's user): one longer
     * than the 255 bytes any Matrix ID may be is left out, or a local user inviting megabyte IDs that a
     * rule refuses would fill the log, which keeps thousands of decisions, and run the heap out.
     */
    @Test
    void aUserIdLongerThanAnyMatrixIdMayBeIsLeftOutSoTheLogStaysBounded() {
        String longest = "@" + "a".repeat(255 - "@:example.com".length()) + ":example.com";
        String huge = "@" + "a".repeat(1_000_000) + ":example.net";

        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"inviter": "%s", "invitee": "%s", "room_id": "!r:example.com"}""".formatted(longest, huge)));

        assertThat(ids.users()).containsExactly(longest);
        assertThat(ids.servers()).containsExactly("example.com");
    }

    @Test
    void credentialsProfilesAndAddressesAreNeverRead() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"user": "@alice:example.com", "login_type": "m.login.password",
                 "login_dict": {"password": "@looks:like.an.id", "user": "@other:example.com"},
                 "password": "@also:like.an.id", "address": "@mail:example.com", "display_name": "@shown:example.com",
                 "access_token": "@token:example.com"}"""));

        assertThat(ids.users()).containsExactly("@alice:example.com");
        assertThat(ids.servers()).containsExactly("example.com");
    }

    @Test
    void aTextStateKeyOrAnInvalidIdIsLeftOut() {
        InvolvedIds ids = InvolvedIds.of(DecisionLogTest.args("""
                {"user_id": "@no server", "room_id": "!", "event": {"state_key": "", "sender": 42}}"""));

        assertThat(ids.users()).isEmpty();
        assertThat(ids.rooms()).isEmpty();
        assertThat(ids.servers()).isEmpty();
    }

    @Test
    void theNestedRequesterAndProfileNameTheirUser() {
        assertThat(InvolvedIds.of(DecisionLogTest.args("{\"requester\": {\"user_id\": \"@a:example.com\"}}")).users())
                .containsExactly("@a:example.com");
        assertThat(InvolvedIds.of(DecisionLogTest.args("{\"user_profile\": {\"user_id\": \"@b:example.com\", \"display_name\": \"@c:x.y\"}}")).users())
                .containsExactly("@b:example.com");
    }
}
