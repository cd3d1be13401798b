package dev.matrixpolicy.gateway.modules.denylist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.FederatedUserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckLoginForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoomAlias;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayPublishRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySend3pidInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Which argument each callback checks, what a rejection carries, and which callbacks take part. */
class UserDenylistTest {
    private static final String LISTED = "@spammer:example.com";
    private static final String UNLISTED = "@alice:example.com";
    private static final List<String> ALL_CALLBACKS =
            List.of("check_event_for_spam", "user_may_invite", "user_may_send_3pid_invite", "user_may_join_room", "user_may_create_room",
                    "user_may_create_room_alias", "user_may_publish_room", "user_may_send_state_event", "federated_user_may_invite");

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private UserDenylist denylist(List<String> callbacks, String errcode, String error) {
        PolicyModule module = new UserDenylistModuleType().create(
                new UserDenylistConfig(List.of(LISTED, "*:evil.example"), null, Duration.ofSeconds(10), callbacks, errcode, error),
                new ModuleContext("denylist", "example.com", meters));
        return (UserDenylist) module;
    }

    private UserDenylist denylist() {
        return denylist(ALL_CALLBACKS, "M_FORBIDDEN", null);
    }

    @Test
    void checkEventForSpamChecksTheSenderNotWhoTheEventMentions() {
        UserDenylist denylist = denylist();

        assertThat(denylist.checkEventForSpam(event(LISTED, UNLISTED))).isEqualTo(Rejection.of("M_FORBIDDEN"));
        assertThat(denylist.checkEventForSpam(event(UNLISTED, LISTED))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void userMayInviteChecksTheInviterNotTheInvitee() {
        UserDenylist denylist = denylist();

        assertThat(denylist.userMayInvite(new UserMayInvite.Args(LISTED, UNLISTED, "!room:example.com")))
                .isInstanceOf(Rejection.class);
        assertThat(denylist.userMayInvite(new UserMayInvite.Args(UNLISTED, LISTED, "!room:example.com")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void userMayJoinRoomChecksTheJoiningUser() {
        UserDenylist denylist = denylist();

        assertThat(denylist.userMayJoinRoom(new UserMayJoinRoom.Args("@x:evil.example", "!room:example.com", true)))
                .isInstanceOf(Rejection.class);
        assertThat(denylist.userMayJoinRoom(new UserMayJoinRoom.Args(UNLISTED, "!room:example.com", false)))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void userMayCreateRoomChecksTheCreator() {
        UserDenylist denylist = denylist();

        assertThat(denylist.userMayCreateRoom(new UserMayCreateRoom.Args("@SPAMMER:example.com", Optional.empty()))).isInstanceOf(Rejection.class);
        assertThat(denylist.userMayCreateRoom(new UserMayCreateRoom.Args(UNLISTED, Optional.empty()))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** Synapse has the identity server send the invitation before check_event_for_spam sees the invite's event. */
    @Test
    void userMaySend3pidInviteChecksTheInviterBeforeTheIdentityServerSendsAnything() {
        UserDenylist denylist = denylist();

        assertThat(denylist.userMaySend3pidInvite(new UserMaySend3pidInvite.Args(LISTED, "email", "victim@example.org", "!room:example.com")))
                .isInstanceOf(Rejection.class);
        assertThat(denylist.userMaySend3pidInvite(new UserMaySend3pidInvite.Args(UNLISTED, "email", "friend@example.org", "!room:example.com")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** Neither an alias nor a room directory entry is an event, so no other callback sees them. */
    @Test
    void userMayCreateRoomAliasAndUserMayPublishRoomCheckTheActingUser() {
        UserDenylist denylist = denylist();

        assertThat(denylist.userMayCreateRoomAlias(new UserMayCreateRoomAlias.Args("@x:evil.example", "#free-crypto:example.com")))
                .isInstanceOf(Rejection.class);
        assertThat(denylist.userMayCreateRoomAlias(new UserMayCreateRoomAlias.Args(UNLISTED, "#lounge:example.com")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(denylist.userMayPublishRoom(new UserMayPublishRoom.Args(LISTED, "!room:example.com"))).isInstanceOf(Rejection.class);
        assertThat(denylist.userMayPublishRoom(new UserMayPublishRoom.Args(UNLISTED, "!room:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void userMaySendStateEventChecksTheSendingUser() {
        UserDenylist denylist = denylist();

        assertThat(denylist.userMaySendStateEvent(stateEvent(LISTED))).isInstanceOf(Rejection.class);
        assertThat(denylist.userMaySendStateEvent(stateEvent(UNLISTED))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void federatedUserMayInviteChecksTheRemoteInviterNotTheLocalInvitee() {
        UserDenylist denylist = denylist();

        assertThat(denylist.federatedUserMayInvite(new FederatedUserMayInvite.Args(event("@mallory:evil.example", UNLISTED).event())))
                .isInstanceOf(Rejection.class);
        assertThat(denylist.federatedUserMayInvite(new FederatedUserMayInvite.Args(event(UNLISTED, LISTED).event())))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void rejectionCarriesTheConfiguredErrcodeAndMessage() {
        UserDenylist denylist = denylist(ALL_CALLBACKS, "M_LIMIT_EXCEEDED", "You are on the denylist");

        assertThat(denylist.userMayCreateRoom(new UserMayCreateRoom.Args(LISTED, Optional.empty())))
                .isEqualTo(new Rejection("M_LIMIT_EXCEEDED", Optional.of("You are on the denylist")));
    }

    @Test
    void blankMessageSendsNone() {
        assertThat(denylist(ALL_CALLBACKS, "M_FORBIDDEN", "  ").userMayCreateRoom(new UserMayCreateRoom.Args(LISTED, Optional.empty())))
                .isEqualTo(Rejection.of("M_FORBIDDEN"));
    }

    @Test
    void everySupportedCallbackCanTakePartAndNoOther() {
        UserDenylist denylist = denylist();

        assertThat(UserDenylist.SUPPORTED).extracting(type -> type.name()).containsExactlyElementsOf(ALL_CALLBACKS);
        assertThat(denylist.implementation(UserMaySendStateEvent.TYPE)).isPresent();
        assertThat(denylist.implementation(FederatedUserMayInvite.TYPE)).isPresent();

        assertThat(denylist.implementation(CheckEventForSpam.TYPE)).isPresent();
        assertThat(denylist.implementation(UserMayInvite.TYPE)).isPresent();
        assertThat(denylist.implementation(UserMayJoinRoom.TYPE)).isPresent();
        assertThat(denylist.implementation(UserMayCreateRoom.TYPE)).isPresent();
        assertThat(denylist.implementation(UserMaySend3pidInvite.TYPE)).isPresent();
        assertThat(denylist.implementation(UserMayCreateRoomAlias.TYPE)).isPresent();
        assertThat(denylist.implementation(UserMayPublishRoom.TYPE)).isPresent();
        assertThat(denylist.implementation(CheckLoginForSpam.TYPE)).isEmpty();
    }

    @Test
    void onlyTheConfiguredCallbacksTakePart() {
        UserDenylist denylist = denylist(List.of("user_may_invite"), "M_FORBIDDEN", null);

        assertThat(denylist.implementation(UserMayInvite.TYPE)).isPresent();
        assertThat(denylist.implementation(CheckEventForSpam.TYPE)).isEmpty();
        assertThat(denylist.implementation(UserMayJoinRoom.TYPE)).isEmpty();
    }

    @Test
    void answersInlineWithoutADeadline() {
        assertThat(denylist().mayBlock()).isFalse();
    }

    @Test
    void gaugesCountExactEntriesAndGlobs() {
        denylist();

        assertThat(meters.get("policy.module.denylist.entries").tags("module", "denylist", "kind", "exact").gauge().value())
                .isEqualTo(1);
        assertThat(meters.get("policy.module.denylist.entries").tags("module", "denylist", "kind", "glob").gauge().value())
                .isEqualTo(1);
    }

    private static UserMaySendStateEvent.Args stateEvent(String sender) {
        ObjectNode content = JsonMapper.builder().build().createObjectNode().put("topic", "Buy now");
        return new UserMaySendStateEvent.Args(sender, "!room:example.com", "m.room.topic", "", content);
    }

    private static CheckEventForSpam.Args event(String sender, String mentioned) {
        ObjectNode json = JsonMapper.builder().build().createObjectNode();
        json.put("event_id", "$event").put("room_id", "!room:example.com").put("type", "m.room.member")
                .put("sender", sender).put("state_key", mentioned);
        json.putObject("content").put("membership", "invite").put("body", mentioned);
        return new CheckEventForSpam.Args(new ClientEvent(json));
    }
}
