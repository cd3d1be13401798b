package dev.matrixpolicy.gateway.callbacks;

import static dev.matrixpolicy.gateway.support.Fixtures.FEDERATED_INVITE_EVENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.matrixpolicy.gateway.callbacks.spam_checker.FederatedUserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The arguments of the spam-checker callbacks of Synapse 1.132 and 1.134. Their chain rule (first
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
}
