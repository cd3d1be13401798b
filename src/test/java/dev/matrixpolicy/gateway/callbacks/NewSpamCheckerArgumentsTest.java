package dev.matrixpolicy.gateway.callbacks;

import static dev.matrixpolicy.gateway.support.Fixtures.FEDERATED_INVITE_EVENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckUsernameForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.FederatedUserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The arguments of the spam-checker callbacks that Synapse 1.122 to 1.134 added or changed: the
 * changed ones accept the arguments of older and newer Synapse alike. Their chain rule (first
 * non-NOT_SPAM wins) is proven end to end by {@code EveryCallbackEndToEndTest}.
 */
class NewSpamCheckerArgumentsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static Object read(CallbackType<?, ?, ?> type, String body) {
        return type.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(body)));
    }

    @Test
    void userMaySendStateEventReadsAnEmptyStateKeyAndTheContent() {
        var args = (UserMaySendStateEvent.Args) read(UserMaySendStateEvent.TYPE, """
                {"user_id": "@alice:example.com", "room_id": "!room:example.com", "event_type": "m.room.topic",
                 "state_key": "", "content": {"topic": "Buy now"}}""");

        assertThat(args.userId()).isEqualTo("@alice:example.com");
        assertThat(args.stateKey()).isEmpty();
        assertThat(args.content().get("topic").asString()).isEqualTo("Buy now");
    }

    @Test
    void userMaySendStateEventRefusesContentThatIsNotAnObject() {
        assertThatExceptionOfType(BadArgumentException.class).isThrownBy(() -> read(UserMaySendStateEvent.TYPE, """
                {"user_id": "@alice:example.com", "room_id": "!room:example.com", "event_type": "m.room.topic",
                 "state_key": "", "content": "Buy now"}""")).satisfies(bad -> assertThat(bad.field()).isEqualTo("content"));
    }

    @Test
    void userMaySendStateEventRefusesAMissingStateKey() {
        assertThatExceptionOfType(BadArgumentException.class).isThrownBy(() -> read(UserMaySendStateEvent.TYPE, """
                {"user_id": "@alice:example.com", "room_id": "!room:example.com", "event_type": "m.room.topic",
                 "content": {}}""")).satisfies(bad -> assertThat(bad.field()).isEqualTo("state_key"));
    }

    @Test
    void federatedUserMayInviteReadsTheRemoteInviterAndTheStrippedState() {
        var args = (FederatedUserMayInvite.Args) read(FederatedUserMayInvite.TYPE, "{\"event\": " + FEDERATED_INVITE_EVENT + "}");

        assertThat(args.event().sender()).isEqualTo("@mallory:example.org");
        assertThat(args.event().json().get("unsigned").get("invite_room_state").size()).isEqualTo(1);
    }

    @Test
    void userMayCreateRoomReadsTheRoomConfigOfSynapse1132AndGoesWithoutItBefore() {
        var before = (UserMayCreateRoom.Args) read(UserMayCreateRoom.TYPE, "{\"user_id\": \"@alice:example.com\"}");
        var after = (UserMayCreateRoom.Args) read(UserMayCreateRoom.TYPE, """
                {"user_id": "@alice:example.com", "room_config": {"preset": "public_chat", "name": "Buy now"}}""");

        assertThat(before.roomConfig()).isEmpty();
        assertThat(after.roomConfig()).hasValueSatisfying(config -> assertThat(config.get("name").asString()).isEqualTo("Buy now"));
    }

    @Test
    void userMayCreateRoomRefusesARoomConfigThatIsNotAnObject() {
        assertThatExceptionOfType(BadArgumentException.class).isThrownBy(() -> read(UserMayCreateRoom.TYPE,
                "{\"user_id\": \"@alice:example.com\", \"room_config\": []}"))
                .satisfies(bad -> assertThat(bad.field()).isEqualTo("room_config"));
    }

    @Test
    void checkUsernameForSpamReadsTheRequesterOfSynapse1122AndGoesWithoutItBefore() {
        String profile = "\"user_profile\": {\"user_id\": \"@bob:example.com\", \"display_name\": null, \"avatar_url\": null}";
        var before = (CheckUsernameForSpam.Args) read(CheckUsernameForSpam.TYPE, "{" + profile + "}");
        var after = (CheckUsernameForSpam.Args) read(CheckUsernameForSpam.TYPE,
                "{" + profile + ", \"requester_id\": \"@alice:example.com\"}");

        assertThat(before.requesterId()).isEmpty();
        assertThat(after.requesterId()).contains("@alice:example.com");
    }
}
