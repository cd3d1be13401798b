"""Calling registered callbacks the way Synapse does, and realistic arguments for them."""

from __future__ import annotations

from typing import Any, Tuple

from twisted.internet import defer

from fakes import (
    AppService,
    FakeEvent,
    FakeModuleApi,
    FileInfo,
    MediaUploadLimit,
    ProfileInfo,
    Requester,
    RoomAlias,
    UserID,
    UserPresenceState,
    reactor_turn,
)
from matrix_policy_gateway_shim.callbacks import BY_NAME, FailurePolicy

MESSAGE = FakeEvent("$msg:example.com", "m.room.message", "@alice:example.com", "!room:example.com",
                    {"msgtype": "m.text", "body": "hello"})
CREATE = FakeEvent("$create:example.com", "m.room.create", "@alice:example.com", "!room:example.com",
                   {"room_version": "10"}, state_key="")
MEMBER = FakeEvent("$member:example.com", "m.room.member", "@alice:example.com", "!room:example.com",
                   {"membership": "join"}, state_key="@alice:example.com")
STATE = {("m.room.create", ""): CREATE, ("m.room.member", "@alice:example.com"): MEMBER}

MESSAGE_JSON = {
    "event_id": "$msg:example.com", "type": "m.room.message", "sender": "@alice:example.com",
    "room_id": "!room:example.com", "content": {"msgtype": "m.text", "body": "hello"},
    "origin_server_ts": 1700000000000, "unsigned": {"age": 5},
}
STATE_JSON = [
    {"event_id": "$create:example.com", "type": "m.room.create", "sender": "@alice:example.com",
     "room_id": "!room:example.com", "state_key": "", "content": {"room_version": "10"},
     "origin_server_ts": 1700000000000, "unsigned": {"age": 5}},
    {"event_id": "$member:example.com", "type": "m.room.member", "sender": "@alice:example.com",
     "room_id": "!room:example.com", "state_key": "@alice:example.com", "content": {"membership": "join"},
     "origin_server_ts": 1700000000000, "unsigned": {"age": 5}},
]
REQUESTER = Requester(user=UserID("@alice:example.com"), access_token_id=12, is_guest=False, scope=set(),
                      shadow_banned=False, device_id="PHONE", app_service=AppService("bridge"),
                      authenticated_entity="@admin:example.com")
# A remote server's invite of a local user, with the room's stripped state.
INVITE_ROOM_STATE = [{"type": "m.room.name", "sender": "@mallory:example.org", "state_key": "",
                      "content": {"name": "Free stuff"}}]
FEDERATED_INVITE = FakeEvent("$invite:example.org", "m.room.member", "@mallory:example.org", "!room:example.org",
                             {"membership": "invite"}, state_key="@alice:example.com",
                             unsigned={"invite_room_state": INVITE_ROOM_STATE})
FEDERATED_INVITE_JSON = {
    "event_id": "$invite:example.org", "type": "m.room.member", "sender": "@mallory:example.org",
    "room_id": "!room:example.org", "state_key": "@alice:example.com", "content": {"membership": "invite"},
    "origin_server_ts": 1700000000000, "unsigned": {"invite_room_state": INVITE_ROOM_STATE},
}
BOB_ONLINE = UserPresenceState("@bob:example.com", "online", 1, 2, 3, "busy", True)
BOB_ONLINE_JSON = {"user_id": "@bob:example.com", "state": "online", "last_active_ts": 1,
                   "last_federation_update_ts": 2, "last_user_sync_ts": 3, "status_msg": "busy",
                   "currently_active": True}

# (callback, Synapse's positional arguments or a function making them, the JSON the gateway
# gets), for every callback but check_media_file_for_spam, whose file is hashed (see
# test_arguments).
ARGUMENTS = [
    ("check_event_for_spam", (MESSAGE,), {"event": MESSAGE_JSON}),
    ("user_may_join_room", ("@alice:example.com", "!room:example.com", True),
     {"user": "@alice:example.com", "room": "!room:example.com", "is_invited": True}),
    ("user_may_invite", ("@alice:example.com", "@bob:example.org", "!room:example.com"),
     {"inviter": "@alice:example.com", "invitee": "@bob:example.org", "room_id": "!room:example.com"}),
    ("user_may_send_3pid_invite", ("@alice:example.com", "email", "bob@example.org", "!room:example.com"),
     {"inviter": "@alice:example.com", "medium": "email", "address": "bob@example.org",
      "room_id": "!room:example.com"}),
    ("user_may_create_room", ("@alice:example.com",), {"user_id": "@alice:example.com", "room_config": None}),
    ("user_may_create_room_alias", ("@alice:example.com", RoomAlias("#lobby:example.com")),
     {"user_id": "@alice:example.com", "room_alias": "#lobby:example.com"}),
    ("user_may_publish_room", ("@alice:example.com", "!room:example.com"),
     {"user_id": "@alice:example.com", "room_id": "!room:example.com"}),
    ("check_username_for_spam", ({"user_id": "@spammy:example.org", "display_name": "Buy now", "avatar_url": None},),
     {"user_profile": {"user_id": "@spammy:example.org", "display_name": "Buy now", "avatar_url": None},
      "requester_id": None}),
    ("check_registration_for_spam", (None, "carol", [("Element/1.0", "192.0.2.1")], None),
     {"email_threepid": None, "username": "carol", "request_info": [["Element/1.0", "192.0.2.1"]],
      "auth_provider_id": None}),
    ("should_drop_federated_event", (MESSAGE,), {"event": MESSAGE_JSON}),
    ("check_login_for_spam", ("@alice:example.com", None, "Phone", [(None, "192.0.2.1")], "oidc"),
     {"user_id": "@alice:example.com", "device_id": None, "initial_display_name": "Phone",
      "request_info": [[None, "192.0.2.1"]], "auth_provider_id": "oidc"}),
    ("user_may_send_state_event",
     ("@alice:example.com", "!room:example.com", "m.room.topic", "", {"topic": "Buy now"}),
     {"user_id": "@alice:example.com", "room_id": "!room:example.com", "event_type": "m.room.topic",
      "state_key": "", "content": {"topic": "Buy now"}}),
    ("federated_user_may_invite", (FEDERATED_INVITE,), {"event": FEDERATED_INVITE_JSON}),
    ("check_event_allowed", (MESSAGE, STATE), {"event": MESSAGE_JSON, "state_events": STATE_JSON}),
    ("on_create_room", (REQUESTER, {"preset": "private_chat"}, False),
     {"requester": {"user_id": "@alice:example.com", "device_id": "PHONE", "is_guest": False,
                    "shadow_banned": False, "app_service_id": "bridge",
                    "authenticated_entity": "@admin:example.com"},
      "request_content": {"preset": "private_chat"}, "is_requester_admin": False}),
    ("check_threepid_can_be_invited", ("email", "bob@example.org", STATE),
     {"medium": "email", "address": "bob@example.org", "state_events": STATE_JSON}),
    ("check_visibility_can_be_modified", ("!room:example.com", STATE, "public"),
     {"room_id": "!room:example.com", "state_events": STATE_JSON, "new_visibility": "public"}),
    ("on_new_event", (MESSAGE, STATE), {"event": MESSAGE_JSON, "state_events": STATE_JSON}),
    ("check_can_shutdown_room", ("@admin:example.com", "!room:example.com"),
     {"user_id": "@admin:example.com", "room_id": "!room:example.com"}),
    ("check_can_deactivate_user", ("@alice:example.com", True), {"user_id": "@alice:example.com", "by_admin": True}),
    ("on_profile_update", ("@alice:example.com", ProfileInfo(avatar_url=None, display_name="Alice"), False, False),
     {"user_id": "@alice:example.com", "new_profile": {"display_name": "Alice", "avatar_url": None},
      "by_admin": False, "deactivation": False}),
    ("on_user_deactivation_status_changed", ("@alice:example.com", True, False),
     {"user_id": "@alice:example.com", "deactivated": True, "by_admin": False}),
    ("on_threepid_bind", ("@alice:example.com", "email", "alice@example.com"),
     {"user_id": "@alice:example.com", "medium": "email", "address": "alice@example.com"}),
    ("on_add_user_third_party_identifier", ("@alice:example.com", "email", "alice@example.com"),
     {"user_id": "@alice:example.com", "medium": "email", "address": "alice@example.com"}),
    ("on_remove_user_third_party_identifier", ("@alice:example.com", "msisdn", "33123456789"),
     {"user_id": "@alice:example.com", "medium": "msisdn", "address": "33123456789"}),
    ("check_auth", ("bob", "m.login.password", {"password": "builder"}),
     {"user": "bob", "login_type": "m.login.password", "login_dict": {"password": "builder"}}),
    ("check_3pid_auth", ("email", "carol@example.com", "secret"),
     {"medium": "email", "address": "carol@example.com", "password": "secret"}),
    ("on_logged_out", ("@alice:example.com", "PHONE", "syt_abc"),
     {"user_id": "@alice:example.com", "device_id": "PHONE", "access_token": "syt_abc"}),
    ("get_username_for_registration", ({"m.login.dummy": True}, {"username": "c"}),
     {"uia_results": {"m.login.dummy": True}, "params": {"username": "c"}}),
    ("get_displayname_for_registration", ({"m.login.dummy": True}, {}),
     {"uia_results": {"m.login.dummy": True}, "params": {}}),
    ("is_3pid_allowed", ("email", "carol@example.com", True),
     {"medium": "email", "address": "carol@example.com", "registration": True}),
    ("is_user_expired", ("@alice:example.com",), {"user": "@alice:example.com"}),
    ("on_user_registration", ("@carol:example.com",), {"user": "@carol:example.com"}),
    ("on_user_login", ("@alice:example.com", "m.login.password", None),
     {"user_id": "@alice:example.com", "auth_provider_type": "m.login.password", "auth_provider_id": None}),
    # Synapse passes an iterable, which may be read only once (made fresh for each call); the compact answer is asked for.
    ("get_users_for_states", lambda: (iter([BOB_ONLINE]),), {"state_updates": [BOB_ONLINE_JSON], "answer_form": "compact"}),
    ("get_interested_users", ("@alice:example.com",), {"user_id": "@alice:example.com"}),
    ("on_account_data_updated", ("@alice:example.com", None, "m.push_rules", {}),
     {"user_id": "@alice:example.com", "room_id": None, "account_data_type": "m.push_rules", "content": {}}),
    ("on_update", ("event_search", "main", False),
     {"update_name": "event_search", "database_name": "main", "one_shot": False}),
    ("default_batch_size", ("event_search", "main"), {"update_name": "event_search", "database_name": "main"}),
    ("min_batch_size", ("event_search", "main"), {"update_name": "event_search", "database_name": "main"}),
    ("add_field_to_unsigned", (MESSAGE,), {"event": MESSAGE_JSON}),
    ("get_media_config_for_user", ("@alice:example.com",), {"user_id": "@alice:example.com"}),
    ("is_user_allowed_to_upload_media_of_size", ("@alice:example.com", 12345),
     {"user_id": "@alice:example.com", "size": 12345}),
    # Synapse's docs add a size argument; its code passes the user ID only.
    ("get_media_upload_limits_for_user", ("@alice:example.com",), {"user_id": "@alice:example.com"}),
    ("on_media_upload_limit_exceeded",
     ("@alice:example.com", MediaUploadLimit(max_bytes=104857600, time_period_ms=3600000), 104000000, 2000000),
     {"user_id": "@alice:example.com", "limit": {"max_bytes": 104857600, "time_period_ms": 3600000},
      "sent_bytes": 104000000, "attempted_bytes": 2000000}),
    ("get_ratelimit_override_for_user", ("@alice:example.com", "rc_invites.per_user"),
     {"user_id": "@alice:example.com", "limiter_name": "rc_invites.per_user"}),
]

class InMemoryFile:
    """A ``ReadableFileWrapper`` over bytes, for tests that do not look at the file."""

    def __init__(self, content: bytes = b"GIF89a...") -> None:
        self._content = content

    async def write_chunks_to(self, callback: Any) -> None:
        callback(self._content)


def sample_args(name: str) -> Tuple[Any, ...]:
    """Valid Synapse arguments for any callback, fresh for each call."""
    if name == "check_media_file_for_spam":
        return InMemoryFile(), FileInfo(server_name=None, file_id="abcdef")
    args = _ARGS_BY_NAME[name]
    return args() if callable(args) else args


# A valid "nobody decided" answer for each callback, for tests about something else.
NEUTRAL_RESULT = {
    "check_event_for_spam": "NOT_SPAM", "user_may_join_room": "NOT_SPAM", "user_may_invite": "NOT_SPAM",
    "user_may_send_3pid_invite": "NOT_SPAM", "user_may_create_room": "NOT_SPAM",
    "user_may_create_room_alias": "NOT_SPAM", "user_may_publish_room": "NOT_SPAM",
    "check_username_for_spam": False, "check_registration_for_spam": "ALLOW",
    "check_media_file_for_spam": "NOT_SPAM", "should_drop_federated_event": False,
    "check_login_for_spam": "NOT_SPAM", "user_may_send_state_event": "NOT_SPAM",
    "federated_user_may_invite": "NOT_SPAM", "check_event_allowed": {"allowed": True, "replacement": None},
    "on_create_room": {"request_content": {"preset": "private_chat"}}, "check_threepid_can_be_invited": True,
    "check_visibility_can_be_modified": True, "check_can_shutdown_room": True, "check_can_deactivate_user": True,
    "is_3pid_allowed": True, "get_users_for_states": {}, "get_interested_users": [],
    "on_update": 100, "default_batch_size": 100, "min_batch_size": 1, "add_field_to_unsigned": {},
    "get_media_config_for_user": None, "is_user_allowed_to_upload_media_of_size": True,
    "get_media_upload_limits_for_user": None, "get_ratelimit_override_for_user": None,
}


_ARGS_BY_NAME = {name: args for name, args, _ in ARGUMENTS}


async def invoke(api: FakeModuleApi, name: str, *args: Any, background: Any = None) -> Any:
    """Calls a registered callback as Synapse would; for notifications, also waits for the
    background delivery so its request can be checked."""
    callback = BY_NAME[name]
    if name == "check_auth":
        function = api.auth_checker(args[1], ("password",))
    else:
        function = api.callback(name)
    if callback.context_manager:
        async with function(*args) as value:
            return value
    result = await function(*args)
    if callback.failure is FailurePolicy.NOTIFICATION and background is not None:
        await reactor_turn()
        await defer.DeferredList(background.deferreds)
    return result


def nested(depth: int) -> Any:
    """A gateway's JSON nested ``depth`` lists deep: Python reads it, but cannot write it again."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value
