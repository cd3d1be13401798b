"""Hostile clients, differential: the same odd or malformed client requests sent to a Synapse with
our module, pointed at a gateway whose chain answers every callback with its neutral answer, and to
a Synapse without any module. Nothing refuses, so a client must see what Synapse alone answers:
the same status and errcode for each request (and the same top-level fields for a success), but
where docs/synapse.md states otherwise (``Request.documented``). Neither the module nor the gateway
may turn a client's odd request into a 500, a 503 or a refusal, nor leave a traceback or an error
line in either log.

Each homeserver gets the requests in the same order (the two at once), so both see the same
history. What differs between them by nature (server names, room and event IDs, tokens) is filled
in per homeserver; error messages are not compared, as they name those.

Synapse 1.67 has no callback for some of what these requests would reach on a newer Synapse:
``user_may_send_state_event`` (state events), ``check_login_for_spam`` and ``on_user_login``
(logins), ``on_add_user_third_party_identifier`` (the admin API's threepids), the media repository
callbacks (uploads), ``get_ratelimit_override_for_user`` (invites) and ``add_field_to_unsigned``
(events read back): the gateway's chain has them, and the module leaves them unregistered here."""

from __future__ import annotations

import collections
import contextlib
import json
import re
import string
import time
import urllib.parse
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import bcrypt
import pytest

import gateway_process
from conftest import TOKEN, shim_module
from harness import synapse as homeservers
from harness.client import Homeserver, MatrixError, User
from harness.report import Report
from harness.steps import SHIM
from matrix_policy_gateway_shim.callbacks import ALL, UPDATES, FailurePolicy

FILED_PASSWORD = "a filed password"

# Each callback's answer that changes nothing: what Synapse does when no module decides. The
# background update controller tunes database updates, which no client request reaches.
NEUTRAL: Dict[str, str] = {
    "check_username_for_spam": "false",
    "should_drop_federated_event": "false",
    "check_threepid_can_be_invited": "true",
    "check_visibility_can_be_modified": "true",
    "check_can_shutdown_room": "true",
    "check_can_deactivate_user": "true",
    "is_3pid_allowed": "true",
    "check_event_allowed": "true",
    "is_user_allowed_to_upload_media_of_size": "true",
    "check_registration_for_spam": "ALLOW",
    "is_user_expired": "~",
    "check_3pid_auth": "~",
    "get_username_for_registration": "~",
    "get_displayname_for_registration": "~",
    "on_create_room": "~",
    "get_interested_users": "[]",
    "get_users_for_states": "'{}'",
    "add_field_to_unsigned": "'{}'",
    "get_media_config_for_user": "~",
    "get_ratelimit_override_for_user": "~",
}


def _neutral(name: str, failure: FailurePolicy) -> str:
    if name in NEUTRAL:
        return NEUTRAL[name]
    if failure is FailurePolicy.NOTIFICATION:
        return "~"
    return "NOT_SPAM"  # every spam verdict


def _config(server_name: str) -> str:
    results = "\n".join(f"          {callback.name}: {_neutral(callback.name, callback.failure)}"
                        for callback in ALL
                        # check_auth is password_file's; a static upload limit of none would lift homeserver.yaml's
                        if callback.category != UPDATES and callback.name not in (
                            "check_auth", "get_media_upload_limits_for_user"))
    filed = bcrypt.hashpw(FILED_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    return f"""
policy-gateway:
  modules:
    - module: static
      name: neutral
      config:
        results:
{results}
    - module: password_file   # check_auth: every password login passes through the module
      name: passwords
      config:
        users:
          filed: "{filed}"
  server-name: "{server_name}"
  auth:
    token-file: TOKEN_FILE
"""


@dataclass
class Side:
    """One homeserver and what the corpus's requests refer to there."""
    name: str
    synapse: homeservers.Synapse
    hs: Homeserver
    ids: Dict[str, str] = field(default_factory=dict)
    users: Dict[str, User] = field(default_factory=dict)

    def fill(self, value: Any) -> Any:
        """``value`` with ``{room}``, ``{server}``, ... replaced by this homeserver's own."""
        if isinstance(value, str):
            return value.format(**self.ids) if "{" in value else value
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {self.fill(key): self.fill(item) for key, item in value.items()}
        return value


@dataclass
class Request:
    what: str
    method: str
    path: str
    body: Any = None
    as_user: Optional[str] = "alice"
    raw: Optional[bytes] = None
    content_type: str = "application/json"
    documented: Optional[Tuple[int, str]] = None
    """What the client gets through our module instead, by a rule docs/synapse.md states."""
    whole: bool = False
    """A read-back: its whole body is compared, the homeserver's name aside."""


def _answer(side: Side, request: Request) -> Tuple[int, Optional[str], Tuple[str, ...]]:
    """(status, errcode, the body's top-level fields) of one request to one homeserver."""
    token = side.users[request.as_user].token if request.as_user else None
    try:
        # Spaces and non-ASCII characters percent-encoded (a client's HTTP library would), the rest as written.
        path = urllib.parse.quote(side.fill(request.path), safe=string.punctuation)
        body = side.hs.request(request.method, path, side.fill(request.body), token=token,
                               raw=request.raw, content_type=request.content_type, timeout=30)
        if request.whole:
            return 200, None, (json.dumps(body, sort_keys=True).replace(side.hs.server_name, "{server}"),)
        return 200, None, tuple(sorted(body)) if isinstance(body, dict) else ()
    except MatrixError as error:
        return error.status, error.errcode, ()


def _junk(n: int) -> str:
    return "x" * n


def _nested(depth: int) -> Dict[str, Any]:
    content: Dict[str, Any] = {"body": "deep"}
    for _ in range(depth):
        content = {"a": content}
    return {"msgtype": "m.text", "body": "nested", "deep": content}


def _deeply_nested(depth: int) -> bytes:
    """A message's content nested ``depth`` objects deep, written out: Python's JSON would recurse."""
    return b'{"msgtype": "m.text", "body": "deep", "deep": ' + b'{"a": ' * depth + b"{}" + b"}" * depth + b"}"


R = "/_matrix/client/v3"
ADMIN = "/_synapse/admin"
DUMMY = {"type": "m.login.dummy"}


def _registration(username: Any, **extra: Any) -> Request:
    return Request(f"register username {username!r:.40}", "POST", f"{R}/register",
                   {"username": username, "password": "correct horse battery staple", "auth": DUMMY, **extra},
                   as_user=None)


def _corpus() -> List[Request]:
    room = "{room}"
    requests: List[Request] = [
        # registration: check_registration_for_spam, get_username/displayname_for_registration,
        # on_user_registration, check_username_for_spam (the user directory)
        _registration("UPPERCASE"),
        _registration(_junk(300)),
        _registration("ünïcödé"),
        _registration("a=b/c.d+e"),
        _registration(""),
        _registration(12345),
        _registration(["list"]),
        _registration({"an": "object"}),
        _registration("has space"),
        _registration("_underscore"),
        _registration("valid-initial-name", initial_device_display_name=12345),
        _registration("valid-huge-device", initial_device_display_name=_junk(100_000)),
        _registration("valid-inhibit", inhibit_login="yes"),
        Request("register with an unknown auth type", "POST", f"{R}/register",
                {"username": "unknown-auth", "password": "pw", "auth": {"type": "m.login.junk"}}, as_user=None),
        Request("register with auth as a string", "POST", f"{R}/register",
                {"username": "string-auth", "password": "pw", "auth": "dummy"}, as_user=None),
        Request("register with a numeric password", "POST", f"{R}/register",
                {"username": "numeric-password", "password": 1234, "auth": DUMMY}, as_user=None),
        Request("register as a guest", "POST", f"{R}/register?kind=guest", {}, as_user=None),
        Request("register with a bare list", "POST", f"{R}/register", ["username"], as_user=None),
        Request("register with a body that is no JSON", "POST", f"{R}/register", raw=b"{not json",
                as_user=None),
        Request("username available, odd", "GET", f"{R}/register/available?username=%C3%BC%00", as_user=None),
        # 3PID requests: is_3pid_allowed
        *[Request(f"requestToken {path} {body!r:.50}", "POST", f"{R}/{path}/requestToken",
                  {"client_secret": "secret", "send_attempt": 1, **body}, as_user=user)
          for path, body, user in (("register/email", {"email": 5}, None),
                                   ("register/email", {"email": "A@B.C\u202e"}, None),
                                   ("register/msisdn", {"country": 5, "phone_number": "x"}, None),
                                   ("register/msisdn", {"country": "GB", "phone_number": 447700900000}, None),
                                   ("account/3pid/msisdn", {"country": "GB", "phone_number": "+44 7700 900000"},
                                    "alice"),
                                   ("password/email", {"email": ["a@b.c"]}, None))],
        # profile: on_profile_update, the user directory
        Request("displayname as a number", "PUT", f"{R}/profile/{{alice}}/displayname", {"displayname": 42}),
        Request("displayname as a list", "PUT", f"{R}/profile/{{alice}}/displayname", {"displayname": ["a"]}),
        Request("displayname huge", "PUT", f"{R}/profile/{{alice}}/displayname", {"displayname": _junk(1000)}),
        Request("displayname with control characters", "PUT", f"{R}/profile/{{alice}}/displayname",
                {"displayname": "a\u0000b\u202ec\u200b\U0010ffff"}),
        Request("displayname null", "PUT", f"{R}/profile/{{alice}}/displayname", {"displayname": None}),
        Request("displayname missing", "PUT", f"{R}/profile/{{alice}}/displayname", {}),
        Request("displayname empty", "PUT", f"{R}/profile/{{alice}}/displayname", {"displayname": ""}),
        Request("displayname of another user", "PUT", f"{R}/profile/{{bob}}/displayname", {"displayname": "x"}),
        Request("displayname of a junk user ID", "PUT", f"{R}/profile/not-a-user/displayname",
                {"displayname": "x"}),
        Request("avatar_url as a number", "PUT", f"{R}/profile/{{alice}}/avatar_url", {"avatar_url": 7}),
        Request("avatar_url as an object", "PUT", f"{R}/profile/{{alice}}/avatar_url", {"avatar_url": {"a": 1}}),
        Request("avatar_url not mxc", "PUT", f"{R}/profile/{{alice}}/avatar_url", {"avatar_url": "javascript:x"}),
        Request("avatar_url huge", "PUT", f"{R}/profile/{{alice}}/avatar_url", {"avatar_url": "mxc://" + _junk(5000)}),
        Request("avatar_url null", "PUT", f"{R}/profile/{{alice}}/avatar_url", {"avatar_url": None}),
        Request("displayname back to plain", "PUT", f"{R}/profile/{{alice}}/displayname", {"displayname": "Alice"}),
        Request("user directory, numeric term", "POST", f"{R}/user_directory/search", {"search_term": 5}),
        Request("user directory, odd limit", "POST", f"{R}/user_directory/search",
                {"search_term": "ali", "limit": "ten"}),
        Request("user directory, unicode term", "POST", f"{R}/user_directory/search", {"search_term": "\u202e"}),
        Request("user directory, plain", "POST", f"{R}/user_directory/search", {"search_term": "valid"}),
        # createRoom: user_may_create_room, on_create_room, user_may_create_room_alias,
        # user_may_invite, check_event_for_spam, check_event_allowed, on_new_event
        *[Request(f"createRoom alias {alias!r:.40}", "POST", f"{R}/createRoom", {"room_alias_name": alias})
          for alias in ("Has:Colon", "has space", "ünï", _junk(300), 42, "", "#hash", ["list"], "dup", "dup")],
        *[Request(f"createRoom invite {invite!r:.40}", "POST", f"{R}/createRoom", {"invite": invite})
          for invite in (["junk"], ["@no-server"], [123], "notalist", [None], ["@nobody:{server}"],
                         ["@UPPER:{server}"], [{"user_id": "@x:y"}])],
        *[Request(f"createRoom invite_3pid {invite!r:.60}", "POST", f"{R}/createRoom", {"invite_3pid": invite})
          for invite in ("notalist", [{"medium": "pigeon"}], [42],
                         [{"id_server": "127.0.0.1:1", "id_access_token": "t", "medium": "pigeon", "address": 42}])],
        *[Request(f"createRoom initial_state {state!r:.60}", "POST", f"{R}/createRoom", {"initial_state": state})
          for state in ("notalist", [42], [{"type": 1, "content": {}}], [{"type": "m.room.topic", "content": "s"}],
                        [{"type": "m.room.topic", "state_key": 5, "content": {}}],
                        [{"type": "m.room.topic", "content": {"topic": 5}}],
                        [{"type": "m.room.member", "state_key": "junk", "content": {"membership": "join"}}],
                        [{"type": "m.room.power_levels", "content": {"users": "x"}}],
                        [{"type": "m.room.join_rules", "content": {"join_rule": 5}}],
                        [{"type": "m.room.encryption", "content": {"algorithm": ["x"]}}],
                        [{"type": "", "content": {}}])],
        *[Request(f"createRoom power_level_content_override {override!r:.60}", "POST", f"{R}/createRoom",
                  {"power_level_content_override": override})
          for override in ("str", {"users": {"junk": 100}}, {"users_default": "x"}, {"users": {"{alice}": 1.5}},
                           {"events": {"m.room.name": 2 ** 60}}, {"ban": True})],
        *[Request(f"createRoom creation_content {content!r:.60}", "POST", f"{R}/createRoom",
                  {"creation_content": content})
          for content in ("str", {"m.federate": "x"}, {"type": 5}, {"creator": "@someone:else"},
                          {"room_version": "junk"})],
        *[Request(f"createRoom {key} {value!r:.40}", "POST", f"{R}/createRoom", {key: value})
          for key, value in (("preset", "junk"), ("visibility", "junk"), ("visibility", "public"),
                             ("room_version", "junk"), ("room_version", 5), ("is_direct", "x"), ("name", 5),
                             ("topic", ["x"]), ("name", _junk(1000)), ("topic", _junk(70_000)))],
        # bodies over the gateway's max-body-size (1MB) that Synapse takes (up to 200 events' worth):
        # on_create_room fails closed with 413 (docs/synapse.md, Known limits)
        Request("createRoom with 20 large initial state events", "POST", f"{R}/createRoom",
                {"initial_state": [{"type": "org.example.big", "state_key": str(n), "content": {"x": _junk(60_000)}}
                                   for n in range(20)]}, documented=(413, "M_TOO_LARGE")),
        Request("createRoom with a 2 MB field it does not know", "POST", f"{R}/createRoom",
                {"org.example.junk": _junk(2_000_000)}, documented=(413, "M_TOO_LARGE")),
        _registration("valid-huge-field", **{"org.example.junk": _junk(2_000_000)}),
        Request("createRoom with a bare list", "POST", f"{R}/createRoom", ["x"]),
        # invites: user_may_invite; 3PID invites: user_may_send_3pid_invite, check_threepid_can_be_invited
        *[Request(f"invite {user!r:.40}", "POST", f"{R}/rooms/{room}/invite", {"user_id": user})
          for user in ("junk", 123, "", None, "@no-server", "@nobody:{server}", "@UPPER:{server}", "{bob}",
                       "{bob}", "{alice}", "@" + _junk(300) + ":{server}")],
        Request("invite into a junk room ID", "POST", f"{R}/rooms/!junk/invite", {"user_id": "{bob}"}),
        Request("invite into an unknown room", "POST", f"{R}/rooms/!unknown:{{server}}/invite", {"user_id": "{bob}"}),
        Request("invite into a non-room", "POST", f"{R}/rooms/notaroom/invite", {"user_id": "{bob}"}),
        *[Request(f"3PID invite {invite!r:.60}", "POST", f"{R}/rooms/{room}/invite", invite)
          for invite in ({"medium": "pigeon", "address": 42, "id_server": "127.0.0.1:1", "id_access_token": "t"},
                         {"medium": 5, "address": ["x"], "id_server": "127.0.0.1:1", "id_access_token": "t"},
                         {"medium": "email", "address": "a@b.c", "id_server": "127.0.0.1:1"},
                         {"medium": "email", "address": "a@b.c"},
                         {"medium": "email", "id_server": "127.0.0.1:1", "id_access_token": "t"})],
        # joins: user_may_join_room
        *[Request(f"join {target!r:.40}", "POST", f"{R}/join/{target}", {})
          for target in ("junk", "%23noalias%3A{server}", "!nope%3A{server}", "%23", "!", "@user%3A{server}",
                         "%23bad%20alias%3A{server}", "!" + _junk(300) + "%3A{server}")],
        Request("join a junk room ID by rooms/", "POST", f"{R}/rooms/junk/join", {}),
        Request("join a room with a junk third_party_signed", "POST", f"{R}/rooms/{room}/join",
                {"third_party_signed": "x"}, as_user="bob"),
        Request("join with a junk server_name", "POST", f"{R}/join/!nope%3A{{server}}?server_name=%00", {}),
        Request("join with a reason of a number", "POST", f"{R}/join/{room}", {"reason": 5}, as_user="bob"),
        Request("leave a junk room", "POST", f"{R}/rooms/!junk%3A{{server}}/leave", {}),
        Request("kick a junk user", "POST", f"{R}/rooms/{room}/kick", {"user_id": "junk"}),
        Request("ban a number", "POST", f"{R}/rooms/{room}/ban", {"user_id": 5}),
        # state events: check_event_for_spam, check_event_allowed, on_new_event
        *[Request(f"state {event_type!r:.30}/{state_key!r:.30} {content!r:.40}", "PUT",
                  f"{R}/rooms/{room}/state/{event_type}/{state_key}", content)
          for event_type, state_key, content in (
              ("org.example.odd", "", {"nested": _nested(60)}),
              ("org.example.odd", _junk(300), {}),
              ("org.example.odd", "%E2%80%AE", {"x": "\u202e"}),
              ("%E2%80%AE", "", {}),
              (_junk(300), "", {}),
              ("m.room.name", "", {"name": 5}),
              ("m.room.name", "", {"name": _junk(300)}),
              ("m.room.topic", "", {"topic": {"a": 1}}),
              ("m.room.power_levels", "", {"users": "x"}),
              ("m.room.power_levels", "", {"users": {"junk": 100}}),
              ("m.room.join_rules", "", {"join_rule": 5}),
              ("m.room.history_visibility", "", {"history_visibility": "junk"}),
              ("m.room.canonical_alias", "", {"alias": "junk"}),
              ("m.room.canonical_alias", "", {"alt_aliases": "x"}),
              ("m.room.server_acl", "", {"allow": "x"}),
              ("m.room.member", "junk", {"membership": "join"}),
              ("m.room.member", "{bob}", {"membership": 5}),
              ("m.room.member", "{alice}", {"membership": "join", "displayname": 5}),
              ("m.room.avatar", "", {"url": 5}),
              ("m.room.encryption", "", {"algorithm": 5}),
              ("m.room.tombstone", "", {"replacement_room": 5}),
              ("org.example.big", "", {"big": _junk(70_000)}),
              ("org.example.float", "", {"f": 1.5}),
              ("org.example.bigint", "", {"n": 2 ** 60}),
          )],
        Request("state content as a list", "PUT", f"{R}/rooms/{room}/state/org.example.list/", ["x"]),
        Request("state in a junk room", "PUT", f"{R}/rooms/!junk%3A{{server}}/state/m.room.name/", {"name": "x"}),
        # messages
        *[Request(f"message {content!r:.60}", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-{n}", content)
          for n, content in enumerate((
              _nested(100), {"msgtype": "m.text", "body": 5}, {"msgtype": 5, "body": "x"}, {"body": None},
              {"msgtype": "m.text", "body": "\u0000\u202e\U0010ffff"}, {"msgtype": "m.text", "body": _junk(70_000)},
              {"msgtype": "m.text", "body": "x", "m.relates_to": "x"},
              {"msgtype": "m.text", "body": "x", "m.relates_to": {"rel_type": "m.replace", "event_id": 5}},
              {"msgtype": "m.text", "body": "x", "m.new_content": "x"},
              {"msgtype": "m.text", "body": "x", "format": "org.matrix.custom.html", "formatted_body": 5},
              {"msgtype": "m.text", "body": "x", "m.mentions": {"user_ids": "x"}},
              {"msgtype": "m.text", "body": "x", "f": 0.5}, {"msgtype": "m.text", "body": "x", "n": -(2 ** 60)},
              {}, {"msgtype": "m.image", "body": "x", "url": 5, "info": "x"},
          ))],
        Request("message content as a list", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-list", ["x"]),
        Request("message of an odd type", "PUT", f"{R}/rooms/{room}/send/%E2%80%AE/txn-odd", {"a": 1}),
        Request("message of a huge type", "PUT", f"{R}/rooms/{room}/send/{_junk(300)}/txn-huge", {"a": 1}),
        Request("message with a huge txn ID", "PUT", f"{R}/rooms/{room}/send/m.room.message/{_junk(300)}",
                {"msgtype": "m.text", "body": "x"}),
        Request("message into a junk room", "PUT", f"{R}/rooms/junk/send/m.room.message/t", {"body": "x"}),
        Request("message into an unknown room", "PUT", f"{R}/rooms/!nope%3A{{server}}/send/m.room.message/t",
                {"body": "x"}),
        Request("reaction to a junk event", "PUT", f"{R}/rooms/{room}/send/m.reaction/txn-r",
                {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$junk", "key": 5}}),
        Request("poll start with odd answers", "PUT", f"{R}/rooms/{room}/send/m.poll.start/txn-p",
                {"m.poll.start": {"question": 5, "answers": "x"}}),
        # redactions
        *[Request(f"redact {event!r:.40}", "PUT", f"{R}/rooms/{room}/redact/{event}/txn-{n}", body)
          for n, (event, body) in enumerate((("%24junk", {}), ("notevent", {}), ("{event}", {"reason": 5}),
                                             ("{event}", {"reason": _junk(70_000)}), ("%24junk%3A{server}", {}),
                                             ("{event}", ["x"])))],
        Request("redact in a junk room", "PUT", f"{R}/rooms/junk/redact/%24junk/txn", {}),
        # the room directory: user_may_publish_room, check_visibility_can_be_modified
        *[Request(f"publish {target!r:.40} {body!r:.40}", "PUT", f"{R}/directory/list/room/{target}", body)
          for target, body in (("!junk%3A{server}", {"visibility": "public"}), ("junk", {"visibility": "public"}),
                               (room, {"visibility": "junk"}), (room, {"visibility": 5}), (room, {}),
                               (room, {"visibility": "public"}), (room, {"visibility": "private"}),
                               ("!", {"visibility": "public"}))],
        Request("directory listing of a junk room", "GET", f"{R}/directory/list/room/junk"),
        Request("public rooms with an odd filter", "POST", f"{R}/publicRooms", {"filter": "x", "limit": "ten"}),
        # aliases: user_may_create_room_alias
        *[Request(f"alias {alias!r:.40}", "PUT", f"{R}/directory/room/{alias}", body)
          for alias, body in (("junk", {"room_id": room}), ("%23a%3A{server}", {"room_id": "junk"}),
                              ("%23b%3A{server}", {"room_id": 5}), ("%23c%3Aelsewhere", {"room_id": room}),
                              ("%23%E2%80%AE%3A{server}", {"room_id": room}), ("%23d%3A{server}", {}),
                              ("%23" + _junk(300) + "%3A{server}", {"room_id": room}),
                              ("%23e%3A{server}", {"room_id": "!nope:{server}"}))],
        # presence: the presence router
        *[Request(f"presence {body!r:.60}", "PUT", f"{R}/presence/{{alice}}/status", body)
          for body in ({"presence": "online", "status_msg": _junk(70_000)}, {"presence": "online", "status_msg": 5},
                       {"presence": "junk"}, {"presence": 5}, {}, {"presence": "online", "status_msg": None},
                       {"presence": "unavailable", "status_msg": "\u202e\u0000"})],
        Request("presence of another user", "PUT", f"{R}/presence/{{bob}}/status", {"presence": "online"}),
        Request("presence of a junk user", "GET", f"{R}/presence/junk/status"),
        # account data: on_account_data_updated
        *[Request(f"account data {kind!r:.40} {body!r:.40}", "PUT", f"{R}/user/{{alice}}/account_data/{kind}", body)
          for kind, body in (("%E2%80%AE", {"a": 1}), ("org.example", ["x"]), ("org.example", {"big": _junk(70_000)}),
                             ("m.fully_read", {"event_id": 5}), ("m.push_rules", {}), ("m.direct", {"x": "y"}),
                             (_junk(300), {}), ("org.example", {"f": 1.5}), ("m.ignored_user_list", {"x": 1}))],
        Request("account data of another user", "PUT", f"{R}/user/{{bob}}/account_data/org.example", {}),
        Request("room account data in a junk room", "PUT",
                f"{R}/user/{{alice}}/rooms/junk/account_data/org.example", {}),
        Request("room account data, m.fully_read", "PUT",
                f"{R}/user/{{alice}}/rooms/{room}/account_data/m.fully_read", {}),
        Request("room tag with an odd order", "PUT", f"{R}/user/{{alice}}/rooms/{room}/tags/u.x", {"order": "x"}),
        # media: check_media_file_for_spam
        *[Request(f"upload {content_type!r} of {len(data)} bytes", "POST",
                  f"/_matrix/media/v3/upload?filename={name}", raw=data, content_type=content_type)
          for content_type, data, name in (("x/y;;;", b"x", "a"), ("", b"x", "a"), ("image/png", b"", "a"),
                                           ("text/plain; charset=junk", b"\xff\xfe", "%E2%80%AE.txt"),
                                           ("image/png", b"\x89PNG" + bytes(200_000), "big.png"),
                                           ("application/json", b"{}", "%00"))],
        # login: check_auth, check_3pid_auth; logout: on_logged_out
        *[Request(f"login {body!r:.70}", "POST", f"{R}/login", body, as_user=None)
          for body in ({"type": "m.login.password", "identifier": {"type": "m.id.junk"}, "password": "x"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": 5}, "password": "x"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "@x:elsewhere"},
                        "password": "x"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
                        "password": 5},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "ALICE"},
                        "password": "correct horse battery staple"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "{alice}"},
                        "password": "correct horse battery staple", "device_id": 5},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
                        "password": "correct horse battery staple", "initial_device_display_name": ["x"]},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
                        "password": "wrong"},
                       {"type": "m.login.password", "user": "alice", "password": "correct horse battery staple"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.thirdparty", "medium": "pigeon",
                                                                   "address": 42}, "password": "x"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.thirdparty", "medium": "email"},
                        "password": "x"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.phone", "country": 5,
                                                                   "phone": "x"}, "password": "x"},
                       {"type": "m.login.password", "medium": "email", "address": "a@b.c", "password": "x"},
                       {"type": "m.login.password", "identifier": "x", "password": "x"},
                       {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "filed"}},
                       {"type": "m.login.junk", "identifier": {"type": "m.id.user", "user": "alice"}},
                       {"type": 5}, {}, ["x"])],
        # half a surrogate pair, which Python's JSON reads and Synapse keeps; nesting near Python's limit
        _registration("\ud800"),
        Request("displayname of half a surrogate pair", "PUT", f"{R}/profile/{{bob}}/displayname",
                {"displayname": "bob \ud800"}, as_user="bob"),
        Request("createRoom named with half a surrogate pair", "POST", f"{R}/createRoom",
                {"name": "\udfff", "topic": "a\ud800b", "initial_state": [{"type": "org.example.\ud800",
                                                                           "content": {"k": "\ud800"}}]}),
        Request("message of half a surrogate pair", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-s",
                {"msgtype": "m.text", "body": "\ud800", "\udfff": ["\udbff"]}),
        Request("state of half a surrogate pair", "PUT", f"{R}/rooms/{room}/state/org.example.s/%ED%A0%80",
                {"k": "\ud800"}),
        # a name of half a pair, which the gateway reads as Python's JSON does (RequestBodyReader.HalfPairNames)
        Request("createRoom with a state key name of half a surrogate pair", "POST", f"{R}/createRoom",
                {"initial_state": [{"type": "org.example.s", "content": {"\udc00": "x"}}]}),
        Request("login as half a surrogate pair", "POST", f"{R}/login",
                {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "\ud800"},
                 "password": "\udfff"}, as_user=None),
        Request("account data of half a surrogate pair", "PUT", f"{R}/user/{{alice}}/account_data/org.example.s",
                {"k": "\udfff"}),
        Request("account data with a name of half a surrogate pair", "PUT",
                f"{R}/user/{{alice}}/account_data/org.example.names", {"\ud800": "x"}),
        Request("presence of half a surrogate pair", "PUT", f"{R}/presence/{{alice}}/status",
                {"presence": "online", "status_msg": "\ud800"}),
        Request("3PID invite of half a surrogate pair", "POST", f"{R}/rooms/{room}/invite",
                {"medium": "\ud800", "address": "\udfff", "id_server": "127.0.0.1:1", "id_access_token": "t"}),
        Request("upload named with half a surrogate pair", "POST", "/_matrix/media/v3/upload?filename=%ED%A0%80",
                raw=b"x", content_type="text/plain; name=\xe9"),
        # Synapse freezes each new event, recursively, before it asks check_event_allowed: deep content
        # fails there with its own RecursionError (docs/synapse.md, Known limits)
        Request("message nested 300 deep", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-d300",
                raw=_deeply_nested(300)),
        *[Request(f"message nested {depth} deep", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-d{depth}",
                  raw=_deeply_nested(depth), documented=(500, "M_UNKNOWN")) for depth in (490, 900)],
        Request("message nested 990 deep", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-d990",
                raw=_deeply_nested(990)),
        Request("createRoom with initial state nested 900 deep", "POST", f"{R}/createRoom",
                raw=b'{"initial_state": [{"type": "org.example.deep", "content": ' + _deeply_nested(900) + b"}]}",
                documented=(500, "M_UNKNOWN")),
        Request("state nested 900 deep", "PUT", f"{R}/rooms/{room}/state/org.example.deep/",
                raw=_deeply_nested(900), documented=(500, "M_UNKNOWN")),
        Request("a message after deep state", "PUT", f"{R}/rooms/{room}/send/m.room.message/txn-after",
                {"msgtype": "m.text", "body": "after"}),
        # read-backs of what the odd requests above left
        *[Request(f"read back {path}", "GET", path, whole=True)
          for path in (f"{R}/profile/{{alice}}", f"{R}/profile/{{bob}}", f"{R}/profile/@valid-initial-name:{{server}}",
                       f"{R}/profile/@a=b/c.d+e:{{server}}", f"{R}/rooms/{room}/state/org.example.s/%ED%A0%80",
                       f"{R}/rooms/{room}/state/m.room.power_levels/",
                       f"{R}/user/{{alice}}/account_data/org.example.s", f"{R}/user/{{alice}}/account_data/org.example",
                       f"{ADMIN}/v2/users/{{carol}}")],
        # as the admin: check_can_deactivate_user, check_can_shutdown_room, on_threepid_bind
        *[Request(f"admin PUT user {body!r:.70}", "PUT", f"{ADMIN}/v2/users/{user}", body, as_user="admin")
          for user, body in (("{carol}", {"threepids": [{"medium": "msisdn", "address": 12345}]}),
                             ("{carol}", {"threepids": [{"medium": "pigeon", "address": "x"}]}),
                             ("{carol}", {"threepids": "notalist"}), ("{carol}", {"threepids": [{"medium": "email"}]}),
                             ("{carol}", {"threepids": [{"medium": "email", "address": ["a@b.c"]}]}),
                             ("{carol}", {"threepids": [{"medium": "email", "address": "A@B.C"}]}),
                             ("{carol}", {"displayname": 5}), ("{carol}", {"avatar_url": 5}),
                             ("{carol}", {"admin": "x"}), ("{carol}", {"deactivated": "x"}),
                             ("{carol}", {"user_type": "junk"}), ("{carol}", {"external_ids": "x"}),
                             ("@new-ünï:{server}", {"password": "x"}), ("junk", {}),
                             ("@elsewhere:example.org", {}),
                             ("@created-by-admin:{server}", {"displayname": "\u202e"}))],
        Request("admin deactivates a junk user", "POST", f"{ADMIN}/v1/deactivate/junk", {}, as_user="admin"),
        Request("admin deactivates with an odd erase", "POST", f"{ADMIN}/v1/deactivate/{{dave}}", {"erase": "x"},
                as_user="admin"),
        Request("admin deletes a junk room", "DELETE", f"{ADMIN}/v1/rooms/junk", {}, as_user="admin"),
        Request("admin deletes an unknown room", "DELETE", f"{ADMIN}/v1/rooms/!nope%3A{{server}}", {"block": "x"},
                as_user="admin"),
        Request("admin shuts down a junk room (v2)", "DELETE", f"{ADMIN}/v2/rooms/junk", {}, as_user="admin"),
        *[Request(f"admin deletes a room {body!r:.50}", "DELETE", f"{ADMIN}/v1/rooms/{{doomed}}", body,
                  as_user="admin")
          for body in ({"new_room_user_id": "junk"}, {"message": 5}, {"room_name": ["x"]}, {"purge": "x"},
                       {"new_room_user_id": "{alice}", "message": "\u202e", "block": True})],
        # room upgrades: user_may_create_room, on_create_room
        *[Request(f"upgrade {body!r:.50}", "POST", f"{R}/rooms/{room}/upgrade", body)
          for body in ({"new_version": "junk"}, {"new_version": 5}, {}, ["x"])],
        Request("upgrade a junk room", "POST", f"{R}/rooms/junk/upgrade", {"new_version": "9"}),
        # knocking, sync: user_may_join_room, the presence router
        Request("knock on a junk room", "POST", f"{R}/knock/junk", {"reason": 5}),
        Request("knock on a public room", "POST", f"{R}/knock/{room}", {}, as_user="bob"),
        Request("sync with a junk filter", "GET", f"{R}/sync?filter=junk&timeout=0"),
        Request("sync with an odd timeout", "GET", f"{R}/sync?timeout=x"),
        Request("sync", "GET", f"{R}/sync?timeout=0&set_presence=online"),
        Request("sync with a filter of odd JSON", "GET", f"{R}/sync?timeout=0&filter=%7B%22room%22%3A5%7D"),
        # deactivation: check_can_deactivate_user, on_user_deactivation_status_changed
        *[Request(f"deactivate {body!r:.60}", "POST", f"{R}/account/deactivate", body, as_user="erin")
          for body in ({"auth": "x"}, {"auth": {"type": "m.login.junk"}}, {"erase": "x"}, {"id_server": 5}, ["x"],
                       {"auth": {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "{erin}"},
                                 "password": "wrong"}})],
        Request("logout with a junk token", "POST", f"{R}/logout", {}, as_user="junk-token"),
        Request("logout with an odd body", "POST", f"{R}/logout", ["x"], as_user="frank"),
        Request("logout all with an odd body", "POST", f"{R}/logout/all", "x", as_user="grace"),
        Request("deactivate for real", "POST", f"{R}/account/deactivate",
                {"auth": {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "{erin}"},
                          "password": "correct horse battery staple"}, "erase": True}, as_user="erin"),
    ]
    return requests


@dataclass
class Pair:
    module: Side
    plain: Side
    gateway: gateway_process.Gateway


def _started(synapse: homeservers.Synapse) -> homeservers.Synapse:
    synapse.start()
    return synapse


def _prepare(side: Side) -> None:
    """The same cast on each homeserver: users, one room with one message, an admin."""
    hs = side.hs
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "grace"):
        side.users[name] = hs.register(name)
    side.users["admin"] = hs.register_admin("admin", side.synapse.registration_shared_secret)
    side.users["junk-token"] = User(hs, "@junk:x", "syt_junk_token", None)
    alice = side.users["alice"]
    room = alice.create_room(preset="public_chat")
    doomed = alice.create_room(preset="public_chat")
    side.ids.update({name: user.user_id for name, user in side.users.items()})
    side.ids.update(doomed=doomed)
    side.ids.update(room=room, server=hs.server_name, event=alice.say(room, "first"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, report: Report) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("hostile")
    ports = (gateway_process.free_port(), gateway_process.free_port())
    installation = homeservers.install()
    with contextlib.ExitStack() as running:
        background = running.enter_context(ThreadPoolExecutor(2))
        synapse = homeservers.Synapse(installation, "M", workdir / "with-module",
                                      [shim_module(f"http://127.0.0.1:{ports[0]}")])
        starting = background.submit(gateway_process.start, _config(synapse.server_name), workdir / "gateway",
                                     TOKEN, ports=ports)
        running.callback(_stop_gateway, starting, report)
        plain_starting = background.submit(_started, homeservers.Synapse(installation, "N", workdir / "plain", []))
        running.callback(_stop_synapse, plain_starting)
        gateway = starting.result()
        running.callback(synapse.stop)
        synapse.start()
        plain = plain_starting.result()
        both = (Side("with our module", synapse, Homeserver(synapse.url, synapse.server_name)),
                Side("without modules", plain, Homeserver(plain.url, plain.server_name)))
        list(background.map(_prepare, both))
        yield Pair(*both, gateway)


def _stop_gateway(starting: "Future[gateway_process.Gateway]", report: Report) -> None:
    if starting.exception() is None:
        gateway = starting.result()
        report.read_gateway_metrics(gateway.management_url)
        gateway.stop()


def _stop_synapse(starting: "Future[homeservers.Synapse]") -> None:
    if starting.exception() is None:
        starting.result().stop()


def _tracebacks(lines: List[str]) -> List[str]:
    """Each traceback in a log, as its text."""
    found, current = [], None
    for line in lines:
        if line.startswith("Traceback"):
            current = [line]
            found.append(current)
        elif current is not None and (line.startswith(" ") or not re.match(r"^\d{4}-\d\d-\d\d ", line)):
            current.append(line)
        else:
            current = None
    return ["\n".join(traceback) for traceback in found]


def test_hostile_requests_get_what_synapse_alone_answers(pair: Pair, report: Report):
    began = time.monotonic()
    both = (pair.module, pair.plain)
    corpus = _corpus()
    with ThreadPoolExecutor(2) as at_once:  # each homeserver in order, the two side by side
        answers = list(at_once.map(lambda side: [_answer(side, request) for request in corpus], both))
    registered = [line for line in pair.module.synapse.log_lines() if SHIM in line and "Registered" in line]
    assert registered, "our module registered no callback"

    differences = []
    for request, with_module, alone in zip(corpus, *answers):
        expected = alone if request.documented is None else (*request.documented, ())
        if with_module != expected:
            differences.append(f"{request.what}: with our module {with_module}, without {alone}"
                               + ("" if request.documented is None else f" (documented: {request.documented})"))
    assert not differences, f"{len(differences)} of {len(corpus)} requests answered differently:\n" + \
        "\n".join(differences)
    report.note(f"- hostile clients (test_13): {len(corpus)} requests to a Synapse with our module and one without,"
                f" {sum(1 for r in corpus if r.documented)} answered differently as documented;"
                f" {time.monotonic() - began:.1f} s")


# Synapse 1.67's own errors, which it logs only when a module has the callback: it reads each new
# event back before it calls on_new_event, and withholds a redaction of an event it does not have
# ("notevent" above); it freezes each new event, recursively, before it calls check_event_allowed.
SYNAPSES_OWN_ERRORS_WITH_OUR_CALLBACKS = (
    lambda text: "Error notifying about new room event" in text,
    lambda text: "RecursionError" in text and "in check_event_allowed" in text and "frozenutils.py" in text,
)


def _error_records(lines: List[str]) -> List[Tuple[str, str]]:
    """Each ERROR record of a log: (what it says without IDs and times, its whole text with its traceback)."""
    records: List[Tuple[str, List[str]]] = []
    for line in lines:
        if re.match(r"^\d{4}-\d\d-\d\d ", line):
            records.append((line, [line]) if " - ERROR - " in line else ("", []))
        elif records and records[-1][0]:
            records[-1][1].append(line)
    return [(_logged_as(first), "\n".join(text)) for first, text in records if first]


def test_the_hostile_requests_left_no_error_of_ours_in_either_log(pair: Pair):
    lines = pair.module.synapse.log_lines()
    ours = [line for line in lines if SHIM in line and " - INFO - " not in line]
    # Only the known limit: a client's body over the gateway's max-body-size (docs/synapse.md).
    assert all("got HTTP 413 'M_TOO_LARGE'" in line for line in ours), "\n".join(ours)
    through_us = [traceback for traceback in _tracebacks(lines) if SHIM in traceback]
    assert not through_us, "\n\n".join(through_us)
    # What Synapse itself logs as errors for these requests, it logs with or without us.
    records = _error_records(lines)
    plain = collections.Counter(kind for kind, _ in _error_records(pair.plain.synapse.log_lines()))
    extra = collections.Counter(kind for kind, _ in records) - plain
    explained = collections.Counter(kind for kind, text in records
                                    if any(known(text) for known in SYNAPSES_OWN_ERRORS_WITH_OUR_CALLBACKS))
    unexplained = extra - explained
    assert not unexplained, "\n\n".join(text for kind, text in records if kind in unexplained)
    gateway_log = pair.gateway.log.read_text(errors="replace").splitlines()
    complaints = [line for line in gateway_log if re.search(r"\b(WARN|ERROR)\b", line)]
    assert not complaints, "\n".join(complaints)


def _logged_as(line: str) -> str:
    """A log record's logger and message, without its time, request, IDs and ports."""
    text = line.split(" - ", 1)[-1]
    text = re.sub(r"\b(GET|POST|PUT|DELETE)-\d+\b", "REQUEST", text)
    return re.sub(r"[$!@][\w.=:-]+|0x[0-9a-f]+|\d{4,}|str\('[^']*'\)", "ID", text)
