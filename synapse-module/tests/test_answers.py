"""Every gateway answer comes back as exactly the Python value Synapse expects."""

from types import SimpleNamespace

import pytest
import pytest_twisted
from twisted.internet import task

from calls import BOB_ONLINE, MESSAGE, REQUESTER, invoke, nested, sample_args
from fakes import (
    NOT_SPAM,
    PRESENCE_ALL_USERS,
    Codes,
    MediaUploadLimit,
    RatelimitOverride,
    RegistrationBehaviour,
    RoomV12CreateEvent,
    SynapseError,
    UserPresenceState,
    fake_synapse,
)
from matrix_policy_gateway_shim.answers import PASSES_EXTRA_FIELDS, Call, RoomCreation, interpret
from matrix_policy_gateway_shim.callbacks import ALL, BY_NAME
from matrix_policy_gateway_shim.client import Reply
from matrix_policy_gateway_shim.failures import PolicyFailed, UnexpectedReply

SPAM_VERDICTS = [c.name for c in ALL if c.result is BY_NAME["user_may_invite"].result]
CHARLIE_ONLINE = UserPresenceState.default("@charlie:example.com").copy_and_replace(state="online")


async def answer(api, gateway, name, status, body, *args):
    gateway.replies[BY_NAME[name].path] = Reply(status, body)
    return await invoke(api, name, *(args or sample_args(name)))


def test_every_spam_verdict_callback_is_covered():
    assert sorted(SPAM_VERDICTS) == sorted([
        "check_event_for_spam", "user_may_join_room", "user_may_invite", "user_may_send_3pid_invite",
        "user_may_create_room", "user_may_create_room_alias", "user_may_publish_room",
        "check_media_file_for_spam", "check_login_for_spam", "user_may_send_state_event",
        "federated_user_may_invite"])


@pytest.mark.parametrize("name", SPAM_VERDICTS)
@pytest_twisted.ensureDeferred
async def test_not_spam_is_synapses_own_constant(name, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, name, 200, {"result": "NOT_SPAM"}) is NOT_SPAM


@pytest.mark.parametrize("name", SPAM_VERDICTS)
@pytest_twisted.ensureDeferred
async def test_a_rejection_is_a_codes_member(name, make_module, api, gateway):
    make_module()
    verdict = await answer(api, gateway, name, 403, {"errcode": "M_LIMIT_EXCEEDED", "error": "Slow down"})
    code = verdict[0] if name in PASSES_EXTRA_FIELDS else verdict
    assert code is Codes.LIMIT_EXCEEDED


@pytest.mark.parametrize("name", sorted(PASSES_EXTRA_FIELDS))
@pytest_twisted.ensureDeferred
async def test_a_refusal_passes_its_message_and_retry_after_ms_where_synapse_adds_them_to_the_clients_error(
        name, make_module, api, gateway):
    make_module()
    verdict = await answer(api, gateway, name, 403,
                           {"errcode": "M_LIMIT_EXCEEDED", "error": "Slow down", "retry_after_ms": 1500})
    assert verdict == (Codes.LIMIT_EXCEEDED, {"error": "Slow down", "retry_after_ms": 1500})
    assert verdict[0] is Codes.LIMIT_EXCEEDED


@pytest.mark.parametrize("error", [None, 42, ["Slow down"], {"text": "Slow down"}])
@pytest_twisted.ensureDeferred
async def test_a_message_that_is_not_a_string_is_left_out(error, make_module, api, gateway):
    make_module()
    verdict = await answer(api, gateway, "user_may_invite", 403, {"errcode": "M_FORBIDDEN", "error": error})
    assert verdict is Codes.FORBIDDEN


@pytest.mark.parametrize("name", sorted(set(SPAM_VERDICTS) - PASSES_EXTRA_FIELDS))
@pytest_twisted.ensureDeferred
async def test_elsewhere_a_rate_limit_refusal_is_the_bare_code(name, make_module, api, gateway):
    make_module()
    verdict = await answer(api, gateway, name, 403,
                           {"errcode": "M_LIMIT_EXCEEDED", "error": "Slow down", "retry_after_ms": 1500})
    assert verdict is Codes.LIMIT_EXCEEDED


@pytest.mark.parametrize("retry_after_ms", [-1, "1500", 1.5, True, None])
@pytest_twisted.ensureDeferred
async def test_a_malformed_retry_after_ms_is_left_out(retry_after_ms, make_module, api, gateway):
    make_module()
    verdict = await answer(api, gateway, "user_may_invite", 403,
                           {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": retry_after_ms})
    assert verdict is Codes.LIMIT_EXCEEDED


@pytest_twisted.ensureDeferred
async def test_an_error_code_synapse_does_not_know_still_refuses_as_forbidden(make_module, api, gateway):
    make_module()
    verdict = await answer(api, gateway, "user_may_invite", 403, {"errcode": "ORG_EXAMPLE_NOPE", "error": "No"})
    assert verdict == (Codes.FORBIDDEN, {"error": "No"})
    assert verdict[0] is Codes.FORBIDDEN


@pytest_twisted.ensureDeferred
async def test_refusals_with_an_error_code_synapse_does_not_know_are_logged_once_a_minute(make_module, api, gateway,
                                                                                         caplog):
    # A module's own code (a remote service's ORG_EXAMPLE_SPAM) comes with every refusal of a spam wave.
    clock = task.Clock()
    make_module(reactor=clock)
    for errcode in ["ORG_EXAMPLE_NOPE", "ORG_EXAMPLE_NOPE", "ORG_EXAMPLE_OTHER"]:
        assert await answer(api, gateway, "user_may_invite", 403, {"errcode": errcode}) is Codes.FORBIDDEN
    clock.advance(61)
    assert await answer(api, gateway, "user_may_invite", 403, {"errcode": "ORG_EXAMPLE_NOPE"}) is Codes.FORBIDDEN
    assert [record.getMessage() for record in caplog.records if "does not know" in record.getMessage()] == [
        "The gateway refused user_may_invite with 'ORG_EXAMPLE_NOPE', which this Synapse does not know; refusing "
        "with M_FORBIDDEN",
        "The gateway refused user_may_invite with 'ORG_EXAMPLE_NOPE', which this Synapse does not know; refusing "
        "with M_FORBIDDEN (2 more like it in the last 61 s not logged)"]


@pytest.mark.parametrize("name, result", [
    ("check_username_for_spam", True), ("check_username_for_spam", False),
    ("should_drop_federated_event", True), ("should_drop_federated_event", False),
    ("check_threepid_can_be_invited", False), ("check_visibility_can_be_modified", False),
    ("check_can_shutdown_room", False), ("check_can_deactivate_user", True), ("is_3pid_allowed", False),
])
@pytest_twisted.ensureDeferred
async def test_booleans_are_booleans(name, result, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, name, 200, {"result": result}) is result


@pytest.mark.parametrize("behaviour", ["ALLOW", "SHADOW_BAN", "DENY"])
@pytest_twisted.ensureDeferred
async def test_registration_behaviour_is_the_enum_member(behaviour, make_module, api, gateway):
    make_module()
    result = await answer(api, gateway, "check_registration_for_spam", 200, {"result": behaviour})
    assert result is RegistrationBehaviour[behaviour]


@pytest.mark.parametrize("name, result, expected", [
    ("is_user_expired", True, True), ("is_user_expired", None, None),
    ("get_username_for_registration", "carol", "carol"), ("get_username_for_registration", None, None),
    ("get_displayname_for_registration", "Carol", "Carol"),
    ("get_displayname_for_registration", "x" * 256, "x" * 256), ("get_displayname_for_registration", None, None),
    ("check_3pid_auth", "@carol:example.com", ("@carol:example.com", None)), ("check_3pid_auth", None, None),
    ("check_auth", "@bob:example.com", ("@bob:example.com", None)), ("check_auth", None, None),
])
@pytest_twisted.ensureDeferred
async def test_optional_values(name, result, expected, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, name, 200, {"result": result}) == expected


@pytest.mark.parametrize("name", ["check_auth", "check_3pid_auth"])
@pytest.mark.parametrize("user_id, reason", [
    ("@ghost:example.com", "who has no account on this homeserver"),
    ("@bob:elsewhere.example.org", "a user of another server"),
])
@pytest_twisted.ensureDeferred
async def test_an_auth_checkers_user_without_an_account_here_logs_nobody_in(name, user_id, reason, make_module, api,
                                                                           gateway, caplog):
    # Synapse registers no user an auth checker vouches for: it would hand out a token for the ID that
    # Synapse 1.67 refuses (401) on first use. Not authenticated: Synapse's own password check follows.
    make_module()
    assert await answer(api, gateway, name, 200, {"result": user_id}) is None
    [logged] = [record.getMessage() for record in caplog.records]
    assert logged.startswith(f"Policy check {name} failed ({name} answered {user_id!r}, {reason}")
    assert logged.endswith("answering as if no module decided")


@pytest.mark.parametrize("name", ["check_auth", "check_3pid_auth"])
@pytest_twisted.ensureDeferred
async def test_an_auth_checkers_user_id_is_the_accounts_own_as_synapse_corrects_its_case(name, make_module, api,
                                                                                       gateway):
    make_module()
    assert await answer(api, gateway, name, 200, {"result": "@Bob:example.com"}) == ("@bob:example.com", None)


@pytest.mark.parametrize("result, expected", [
    ({"allowed": False, "replacement": None}, (False, None)),
    ({"allowed": True, "replacement": None}, (True, None)),
    ({"allowed": True, "replacement": {"type": "m.room.message", "content": {"body": "***"}}},
     (True, {"type": "m.room.message", "content": {"body": "***"}})),
])
@pytest_twisted.ensureDeferred
async def test_check_event_allowed_answers_synapses_pair(result, expected, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, "check_event_allowed", 200, {"result": result}) == expected


@pytest_twisted.ensureDeferred
async def test_a_room_version_12_create_event_is_replaced_without_the_room_id_it_was_sent_with(make_module, api,
                                                                                                gateway):
    # Synapse refuses a replacement that changes room_id (handlers/message.py, v1.157), and this
    # event has none of its own: the module added it for the gateway.
    create = RoomV12CreateEvent("$" + "c" * 43, "@alice:example.com")
    censored = {"event_id": create.event_id, "type": "m.room.create", "sender": "@alice:example.com",
                "room_id": create.room_id, "state_key": "", "content": {"room_version": "12", "m.federate": False}}
    make_module()
    allowed, replacement = await answer(api, gateway, "check_event_allowed", 200,
                                        {"result": {"allowed": True, "replacement": censored}}, create, {})
    assert allowed is True and "room_id" not in replacement
    assert replacement["content"] == {"room_version": "12", "m.federate": False}


@pytest_twisted.ensureDeferred
async def test_on_create_room_rewrites_synapses_own_request_content(make_module, api, gateway):
    make_module()
    request_content = {"preset": "public_chat", "name": "Lobby"}
    modified = {"preset": "private_chat", "initial_state": [{"type": "m.room.encryption", "state_key": "",
                                                               "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]}
    result = await answer(api, gateway, "on_create_room", 200, {"result": {"request_content": modified}},
                          REQUESTER, request_content, False)
    assert result is None
    assert request_content == modified


WRONGLY_TYPED_REWRITES = [
    {"invite": "x"}, {"invite": ["@bob:example.com", 5]}, {"initial_state": {}}, {"initial_state": [{"type": "x"}]},
    {"initial_state": [{"type": "x", "state_key": 5, "content": {}}]}, {"name": 5}, {"topic": None}, {"preset": 7},
    {"power_level_content_override": []}, {"creation_content": []}, {"room_alias_name": 5}, {"room_version": 10},
    {"visibility": True}, {"invite_3pid": ["x"]}, {"is_direct": "yes"},
]


@pytest.mark.parametrize("rewrite", WRONGLY_TYPED_REWRITES)
@pytest.mark.parametrize("on_failure", ["fail-open", "fail-closed"])
@pytest_twisted.ensureDeferred
async def test_on_create_room_rewriting_a_field_to_a_type_synapse_cannot_read_follows_the_failure_policy(
        rewrite, on_failure, make_module, api, gateway, caplog):
    # Synapse reads these fields as the client sent them, without checking their type: a 500 with a
    # traceback, or a 400 blaming the client for a room it has half made.
    make_module({"on_failure": on_failure})
    request_content = {"preset": "public_chat", "name": "Lobby"}
    [(field, value)] = rewrite.items()
    try:
        assert await answer(api, gateway, "on_create_room", 200,
                            {"result": {"request_content": {**request_content, **rewrite}}},
                            REQUESTER, request_content, False) is None
        assert on_failure == "fail-open"
    except SynapseError as refused:
        assert (on_failure, refused.code) == ("fail-closed", 503)
    assert request_content == {"preset": "public_chat", "name": "Lobby"}  # unchanged
    [logged] = [record.getMessage() for record in caplog.records]
    assert f"on_create_room rewrote {field} to " in logged


@pytest.mark.parametrize("rewrite", [{"is_direct": None}, {"power_level_content_override": None}])
@pytest_twisted.ensureDeferred
async def test_on_create_room_rewriting_a_field_synapse_reads_null_as_absent_to_null_goes_ahead(
        rewrite, make_module, api, gateway, caplog):
    # Synapse reads both with config.get(...) and acts only on a true value: null is "none", no 500, no 400.
    make_module({"on_failure": "fail-closed"})
    request_content = {"preset": "public_chat", "is_direct": True, "power_level_content_override": {"invite": 100}}
    rewritten = {**request_content, **rewrite}
    assert await answer(api, gateway, "on_create_room", 200, {"result": {"request_content": rewritten}},
                        REQUESTER, request_content, False) is None
    assert request_content == rewritten
    assert not [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize("field", sorted(RoomCreation.SYNAPSE_READS))
@pytest_twisted.ensureDeferred
async def test_on_create_room_passes_on_what_the_client_sent_itself_whatever_its_type(field, make_module, api,
                                                                                      gateway):
    # Synapse answers the client's own request as it would without the module; the rewrite adds a topic.
    make_module({"on_failure": "fail-closed"})
    request_content = {field: {"not": "the type"} if field != "topic" else 5}
    rewritten = {**request_content, "topic": "Set by policy"} if field != "topic" else {**request_content, "name": "x"}
    await answer(api, gateway, "on_create_room", 200, {"result": {"request_content": rewritten}},
                 REQUESTER, request_content, False)
    assert request_content == rewritten


@pytest_twisted.ensureDeferred
async def test_on_create_room_is_denied_by_raising_synapse_error(make_module, api, gateway):
    make_module()
    request_content = {"preset": "public_chat"}
    with pytest.raises(SynapseError) as denied:
        await answer(api, gateway, "on_create_room", 403, {"errcode": "M_FORBIDDEN", "error": "No public rooms"},
                     REQUESTER, request_content, False)
    assert (denied.value.code, denied.value.msg, denied.value.errcode) == (403, "No public rooms", "M_FORBIDDEN")
    assert request_content == {"preset": "public_chat"}


@pytest.mark.parametrize("status, name", [(403, "on_create_room"), (503, "user_may_invite")])
@pytest_twisted.ensureDeferred
async def test_gateway_text_in_a_synapse_error_cannot_forge_a_line_of_synapses_log(status, name, make_module, api,
                                                                                    gateway):
    # Synapse logs a SynapseError's errcode and message as they are ("SynapseError: 403 - ...").
    make_module()
    with pytest.raises(SynapseError) as refused:
        await answer(api, gateway, name, status,
                     {"errcode": "M_X\r\nforged", "error": "No\n2026-12-05 INFO forged \u202eesrever"})
    assert refused.value.errcode == "M_X  forged"
    assert refused.value.msg == "No 2026-12-05 INFO forged  esrever"


@pytest.mark.parametrize("status, name", [(403, "on_create_room"), (503, "user_may_invite"), (403, "user_may_invite")])
@pytest_twisted.ensureDeferred
async def test_gateway_text_synapse_hands_a_client_is_cut_short_and_writable_as_utf_8(status, name, make_module, api,
                                                                                    gateway):
    # Synapse sends the message on to the client whole, and logs a SynapseError's; a lone surrogate, which a JSON
    # escape carries, fails Synapse's writing of the client's answer.
    make_module()
    try:
        refusal = await answer(api, gateway, name, status,
                               {"errcode": "M_" + "X" * 1_000_000, "error": "\ud800" + "x" * 1_000_000})
        errcode, message = refusal[0], refusal[1]["error"]
    except SynapseError as refused:
        errcode, message = refused.errcode, refused.msg
    assert message == " " + "x" * 999 + "\u2026"
    assert errcode in (Codes.FORBIDDEN, "M_" + "X" * 253 + "\u2026")  # the pair's code is one Synapse knows
    message.encode("utf-8")


@pytest_twisted.ensureDeferred
async def test_a_refusal_where_the_callback_has_none_cannot_forge_or_flood_a_line_of_synapses_log(make_module, api,
                                                                                                   gateway, caplog):
    make_module()
    assert await answer(api, gateway, "check_can_shutdown_room", 403,
                        {"errcode": "M_X\n2026-12-05 INFO forged" + "Y" * 1_000_000}) is False
    [logged] = [record.getMessage() for record in caplog.records]
    assert logged.startswith("Policy check check_can_shutdown_room failed (a 403 'M_X\\n2026-12-05 INFO forged")
    assert "\n" not in logged and len(logged) < 500


@pytest_twisted.ensureDeferred
async def test_presence_routes_hold_synapses_own_states_or_new_ones(make_module, api, gateway):
    make_module()
    routes = {
        "@alice:example.com": [BOB_ONLINE.as_dict(), {"user_id": "@charlie:example.com", "state": "unavailable"}],
        "@dave:example.com": [{"user_id": "@bob:example.com", "state": "online"}],
    }
    result = await answer(api, gateway, "get_users_for_states", 200, {"result": routes}, [BOB_ONLINE, CHARLIE_ONLINE])
    assert set(result) == {"@alice:example.com", "@dave:example.com"}
    assert all(isinstance(states, set) for states in result.values())
    assert result["@dave:example.com"] == {BOB_ONLINE}
    charlie = UserPresenceState.default("@charlie:example.com").copy_and_replace(state="unavailable")
    assert result["@alice:example.com"] == {BOB_ONLINE, charlie}
    assert any(state is BOB_ONLINE for state in result["@alice:example.com"])


@pytest_twisted.ensureDeferred
async def test_a_compact_presence_answer_is_read_as_the_same_sets_as_the_full_form(make_module, api, gateway):
    make_module()
    charlie = {"user_id": "@charlie:example.com", "state": "unavailable"}
    batch = [BOB_ONLINE, CHARLIE_ONLINE]
    full = {"@alice:example.com": [BOB_ONLINE.as_dict(), charlie], "@auditor:example.com": [BOB_ONLINE.as_dict(), charlie],
            "@dave:example.com": [BOB_ONLINE.as_dict()], "@erin:example.com": []}
    compact = {"states": [BOB_ONLINE.as_dict(), charlie], "sets": [[0, 1], [0], []],
               "users": {"@alice:example.com": 0, "@auditor:example.com": 0, "@dave:example.com": 1, "@erin:example.com": 2}}
    from_full = await answer(api, gateway, "get_users_for_states", 200, {"result": full}, batch)
    gateway.requests.clear()
    from_compact = await answer(api, gateway, "get_users_for_states", 200, {"result": compact}, batch)
    assert gateway.body(BY_NAME["get_users_for_states"].path)["answer_form"] == "compact"
    assert from_compact == from_full
    assert from_compact["@alice:example.com"] is not from_compact["@auditor:example.com"]  # a set each, as Synapse may add to one
    assert any(state is BOB_ONLINE for state in from_compact["@dave:example.com"])
    # a field a later gateway adds to the form is no receiver: the form is still read
    gateway.requests.clear()
    assert await answer(api, gateway, "get_users_for_states", 200, {"result": {**compact, "version": 2}}, batch) == from_full


@pytest.mark.parametrize("compact", [
    {"states": [], "sets": [[0]], "users": {"@alice:example.com": 0}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[0]], "users": {"@alice:example.com": 1}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[True]], "users": {"@alice:example.com": 0}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[-1]], "users": {"@alice:example.com": 0}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[0.0]], "users": {"@alice:example.com": 0}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[0]], "users": {"@alice:example.com": True}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[0]], "users": {"@alice:example.com": -1}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [[0]], "users": {"@alice:example.com": 0.0}},
    {"states": [{"user_id": "@bob:example.com", "state": "online"}], "sets": [0], "users": {"@alice:example.com": 0}},
    {"states": {}, "sets": [], "users": {}},
    {"states": [], "sets": [], "users": []},
])
def test_a_compact_presence_answer_whose_indices_name_nothing_is_an_unexpected_reply(compact):
    call = Call("get_users_for_states", {"state_updates": [BOB_ONLINE]}, fake_synapse())
    with pytest.raises(UnexpectedReply, match='^get_users_for_states answered .*, expected {"states"'):
        interpret(200, {"result": compact}, BY_NAME["get_users_for_states"].result, call)


@pytest.mark.parametrize("receiver", ["alice:example.com", "@alice", "@", "", "@alice\ud800:example.com"])
@pytest.mark.parametrize("form", ["full", "compact"])
def test_a_receiver_synapse_cannot_parse_as_a_user_id_is_an_unexpected_reply(receiver, form):
    # Synapse parses each receiver (UserID.from_string, get_domain_from_id) and raises on one without '@' and ':',
    # breaking off the whole update's fan-out.
    result = {receiver: [BOB_ONLINE.as_dict()]} if form == "full" \
        else {"states": [BOB_ONLINE.as_dict()], "sets": [[0]], "users": {"@dave:example.com": 0, receiver: 0}}
    call = Call("get_users_for_states", {"state_updates": [BOB_ONLINE]}, fake_synapse())
    with pytest.raises(UnexpectedReply, match="^get_users_for_states answered a receiver .*, expected a user ID"):
        interpret(200, {"result": result}, BY_NAME["get_users_for_states"].result, call)


@pytest.mark.parametrize("user_id", ["@charlie:example.com", "@bob:elsewhere.example", "bob"])
@pytest.mark.parametrize("form", ["full", "compact"])
def test_a_presence_state_of_a_user_without_an_update_in_the_batch_is_an_unexpected_reply(user_id, form):
    # Synapse sends the states over federation asserting each is a local user's, and gives a receiver of ALL
    # its states as its sync's presence: a made-up state would be someone's presence forged.
    state = {"user_id": user_id, "state": "online"}
    result = {"@alice:example.com": [BOB_ONLINE.as_dict(), state]} if form == "full" \
        else {"states": [BOB_ONLINE.as_dict(), state], "sets": [[0, 1]], "users": {"@alice:example.com": 0}}
    call = Call("get_users_for_states", {"state_updates": [BOB_ONLINE]}, fake_synapse())
    with pytest.raises(UnexpectedReply, match=f"^get_users_for_states answered a presence state of '{user_id}', who "
                                              "has no update in the batch asked about$"):
        interpret(200, {"result": result}, BY_NAME["get_users_for_states"].result, call)


@pytest_twisted.ensureDeferred
async def test_a_presence_answer_naming_a_receiver_synapse_cannot_parse_routes_nothing(make_module, api, gateway,
                                                                                        caplog):
    make_module()
    routes = {"@alice:example.com": [BOB_ONLINE.as_dict()], "alice": [BOB_ONLINE.as_dict()]}
    assert await answer(api, gateway, "get_users_for_states", 200, {"result": routes}, [BOB_ONLINE]) == {}
    assert "answered a receiver 'alice', expected a user ID (@localpart:server)" in caplog.text


class _CountedState:
    """A presence state of Synapse's whose ``user_id`` counts its reads."""

    reads = 0

    def __init__(self, state):
        self._state = state
        self.state = state.state

    @property
    def user_id(self):
        _CountedState.reads += 1
        return self._state.user_id

    def as_dict(self):
        return self._state.as_dict()


def test_states_the_gateway_made_up_are_looked_up_among_synapses_not_searched_for_each():
    # An answer of 8 MiB holds some 200,000 states: compared with each of a batch's 1,400 updates in turn, they
    # held Synapse's reactor for seconds.
    originals = [_CountedState(UserPresenceState.default(f"@u{i}:example.com")) for i in range(1000)]
    made_up = [{"user_id": f"@u{i}:example.com", "state": "online"} for i in range(1000)]  # offline in the batch
    _CountedState.reads = 0
    result = interpret(200, {"result": {"states": made_up, "sets": [list(range(1000))], "users": {"@a:example.com": 0}}},
                       BY_NAME["get_users_for_states"].result,
                       Call("get_users_for_states", {"state_updates": originals}, fake_synapse()))
    assert len(result["@a:example.com"]) == 1000
    assert _CountedState.reads <= 1000


def test_a_compact_presence_answer_naming_more_pairs_than_synapse_can_hold_is_an_unexpected_reply():
    # 170 KB: 2,000 states in one set, shared by index among 2,000 receivers, would be 4 million pairs, and an
    # answer of 8 MiB hundreds of millions, each receiver's set its own.
    states = [{"user_id": "@bob:example.com", "state": "unavailable", "last_active_ts": i} for i in range(2000)]
    compact = {"states": states, "sets": [list(range(2000))], "users": {f"@r{i}:example.com": 0 for i in range(2000)}}
    call = Call("get_users_for_states", {"state_updates": [BOB_ONLINE]}, fake_synapse())
    with pytest.raises(UnexpectedReply, match="^get_users_for_states answered 4000000 .receiver, update. pairs, more "
                                              "than the 1000000 taken$"):
        interpret(200, {"result": compact}, BY_NAME["get_users_for_states"].result, call)


@pytest_twisted.ensureDeferred
async def test_all_users_is_synapses_constant_and_a_list_is_a_set(make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, "get_interested_users", 200, {"result": "ALL"}) is PRESENCE_ALL_USERS
    gateway.requests.clear()
    users = await answer(api, gateway, "get_interested_users", 200,
                         {"result": ["@bob:example.com", "@charlie:example.com"]})
    assert users == {"@bob:example.com", "@charlie:example.com"}


@pytest.mark.parametrize("users", [["alice:example.com"], ["@alice"], ["@bob:example.com", "@alice\ud800:example.com"],
                                   [1], "@alice:example.com"])
def test_interested_users_synapse_cannot_take_as_user_ids_are_an_unexpected_reply(users):
    call = Call("get_interested_users", {"user_id": "@alice:example.com"}, fake_synapse())
    with pytest.raises(UnexpectedReply, match=r'^get_interested_users answered .*, expected "ALL" or a list of user '
                                              r'IDs \(@localpart:server\)$'):
        interpret(200, {"result": users}, BY_NAME["get_interested_users"].result, call)


def test_interested_users_beyond_what_synapse_loads_for_a_sync_are_an_unexpected_reply():
    # Synapse asks on each sync of the user, and loads the presence of each user named at an initial sync.
    call = Call("get_interested_users", {"user_id": "@alice:example.com"}, fake_synapse())
    users = [f"@u{i}:example.com" for i in range(100_001)]
    with pytest.raises(UnexpectedReply, match="^get_interested_users answered 100001 users, more than the 100000 "
                                              "taken$"):
        interpret(200, {"result": users}, BY_NAME["get_interested_users"].result, call)
    assert len(interpret(200, {"result": users[:100_000]}, BY_NAME["get_interested_users"].result, call)) == 100_000


@pytest.mark.parametrize("name, result", [("on_update", 250), ("default_batch_size", 500), ("min_batch_size", 5)])
@pytest_twisted.ensureDeferred
async def test_background_update_numbers_are_ints(name, result, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, name, 200, {"result": result}) == result


@pytest_twisted.ensureDeferred
async def test_each_background_update_batch_waits_what_synapses_own_controller_would(make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, "on_update", 200, {"result": 250}) == 250
    assert api.slept == [1.0]  # Synapse's default sleep_duration_ms, where homeserver.yaml cannot be read

    api._hs = SimpleNamespace(config=SimpleNamespace(background_updates=SimpleNamespace(
        sleep_enabled=True, sleep_duration_ms=250)))
    gateway.requests.clear()
    await answer(api, gateway, "on_update", 200, {"result": 250})
    api._hs.config.background_updates.sleep_enabled = False
    gateway.requests.clear()
    await answer(api, gateway, "on_update", 200, {"result": 250})
    assert api.slept == [1.0, 0.25]


def test_on_update_is_synchronous_and_returns_an_async_context_manager(make_module, api):
    make_module()
    manager = api.callback("on_update")("event_search", "main", True)
    assert hasattr(manager, "__aenter__") and hasattr(manager, "__aexit__")


@pytest_twisted.ensureDeferred
async def test_unsigned_fields_are_a_dict(make_module, api, gateway):
    make_module()
    fields = {"org.example.a": 1, "org.example.b": True}
    assert await answer(api, gateway, "add_field_to_unsigned", 200, {"result": fields}, MESSAGE) == fields


@pytest.mark.parametrize("fields, failure", [
    # Synapse adds them to the event in every response that serves it: no more than an event may hold
    ({"org.example.a": "x" * 65_517}, "add_field_to_unsigned answered 65537 bytes, more than the 65536 an "
                                      "event may hold"),
    # counted in UTF-8 bytes, not characters
    ({"org.example.a": "\u00e9" * 32_759}, "add_field_to_unsigned answered 65538 bytes, more than the "
                                           "65536 an event may hold"),
    # Synapse's serializer cannot take it: each response holding the event would fail
    ({"org.example.a": "\ud800"}, "add_field_to_unsigned answered text holding half a surrogate pair"),
    ({"org.example.\udfff": 1}, "add_field_to_unsigned answered text holding half a surrogate pair"),
    # Synapse writes them inside every response that serves the event: its writer fails near 1,000 levels
    ({"org.example.a": nested(99)}, "add_field_to_unsigned answered JSON nested more than 100 levels deep, "
                                            "more than is served to clients"),
])
@pytest_twisted.ensureDeferred
async def test_unsigned_fields_synapse_cannot_serve_with_every_event_are_left_out(fields, failure, make_module, api,
                                                                                   gateway, caplog):
    make_module()
    assert await answer(api, gateway, "add_field_to_unsigned", 200, {"result": fields}, MESSAGE) == {}
    assert f"Policy check add_field_to_unsigned failed ({failure})" in caplog.text


@pytest.mark.parametrize("fields", [
    {"org.example.a": "\u00e9" * 32_758},  # 65,536 bytes of compact JSON in UTF-8
    {"org.example.a": nested(98)},  # 100 levels, the object's own included
])
@pytest_twisted.ensureDeferred
async def test_unsigned_fields_as_large_or_deep_as_served_are_passed_on(fields, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, "add_field_to_unsigned", 200, {"result": fields}, MESSAGE) == fields


@pytest.mark.parametrize("name", [c.name for c in ALL if c.failure.name == "NOTIFICATION"])
@pytest_twisted.ensureDeferred
async def test_notifications_answer_none(name, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, name, 200, {"result": None}) is None


@pytest.mark.parametrize("config", [{"m.upload.size": 104857600}, {}, None])
@pytest_twisted.ensureDeferred
async def test_a_media_config_is_a_dict_or_none(config, make_module, api, gateway):
    # Synapse serves the first truthy config: {} falls through to homeserver.yaml's, like None.
    make_module()
    result = await answer(api, gateway, "get_media_config_for_user", 200, {"result": config})
    assert result == config and type(result) is type(config)


@pytest.mark.parametrize("config, failure", [
    # Synapse answers it to each of the user's clients as it came: what it cannot write fails each request
    ({"m.upload.size": 1, "org.example.a": "\ud800"}, "answered text holding half a surrogate pair"),
    ({"m.upload.size": 1, "org.example.\udfff": 1}, "answered text holding half a surrogate pair"),
    ({"m.upload.size": 1, "org.example.a": "x" * 65_536}, "answered 65574 bytes, more than the 65536 an event may hold"),
    ({"m.upload.size": 1, "org.example.a": {"b": nested(98)}},
     "answered JSON nested more than 100 levels deep, more than is served to clients"),
])
@pytest_twisted.ensureDeferred
async def test_a_media_config_synapse_cannot_serve_falls_through(config, failure, make_module, api, gateway, caplog):
    make_module()
    assert await answer(api, gateway, "get_media_config_for_user", 200, {"result": config}) is None
    assert f"Policy check get_media_config_for_user failed (get_media_config_for_user {failure}" in caplog.text


@pytest.mark.parametrize("allowed", [True, False])
@pytest_twisted.ensureDeferred
async def test_the_upload_size_check_is_a_bool(allowed, make_module, api, gateway):
    make_module()
    assert await answer(api, gateway, "is_user_allowed_to_upload_media_of_size", 200, {"result": allowed}) is allowed


@pytest_twisted.ensureDeferred
async def test_upload_limits_are_a_list_of_synapses_media_upload_limits_that_synapse_can_sort(make_module, api,
                                                                                            gateway):
    make_module()
    limits = await answer(api, gateway, "get_media_upload_limits_for_user", 200, {"result": [
        {"max_bytes": 104857600, "time_period_ms": 3600000}, {"max_bytes": 1073741824, "time_period_ms": 86400000}]})
    assert type(limits) is list and all(type(limit) is MediaUploadLimit for limit in limits)
    limits.sort(key=lambda limit: limit.time_period_ms, reverse=True)  # what Synapse does with it
    assert limits == [MediaUploadLimit(max_bytes=1073741824, time_period_ms=86400000),
                      MediaUploadLimit(max_bytes=104857600, time_period_ms=3600000)]


@pytest.mark.parametrize("limits, expected", [([], []), (None, None)], ids=["no limit", "configured limits"])
@pytest_twisted.ensureDeferred
async def test_no_upload_limit_stays_an_empty_list_and_null_stays_none(limits, expected, make_module, api, gateway):
    make_module()
    result = await answer(api, gateway, "get_media_upload_limits_for_user", 200, {"result": limits})
    assert result == expected and type(result) is type(expected)


@pytest_twisted.ensureDeferred
async def test_a_ratelimit_override_is_synapses_class_with_a_float_and_an_int(make_module, api, gateway):
    make_module()
    override = await answer(api, gateway, "get_ratelimit_override_for_user", 200,
                            {"result": {"per_second": 2, "burst_count": 10}})
    assert type(override) is RatelimitOverride and override == RatelimitOverride(per_second=2.0, burst_count=10)
    assert type(override.per_second) is float and type(override.burst_count) is int
    gateway.requests.clear()
    assert await answer(api, gateway, "get_ratelimit_override_for_user", 200, {"result": None}) is None


@pytest_twisted.ensureDeferred
async def test_a_ratelimit_override_whose_full_burst_drains_within_a_day_is_passed_on(make_module, api, gateway):
    make_module()
    override = await answer(api, gateway, "get_ratelimit_override_for_user", 200,
                            {"result": {"per_second": 100 / 86400, "burst_count": 100}})
    assert override == RatelimitOverride(per_second=100 / 86400, burst_count=100)


@pytest.mark.parametrize("override", [
    {"per_second": 10**400, "burst_count": 10},  # a JSON whole number no float holds: float() raises
    {"per_second": 0.5, "burst_count": 2**31},  # beyond the gateway's documented maximum
    {"per_second": 0.5, "burst_count": 10**400},  # Synapse's rate limiter cannot divide it
    # So slow that Synapse's rate limiter makes a timer slot for every 5 s until the burst drains
    {"per_second": 1e-300, "burst_count": 1},
    {"per_second": 5e-324, "burst_count": 0},  # 1 / rate overflows to infinity: a 500
    {"per_second": 0.01, "burst_count": 1000},  # 1000 actions drain in more than a day
])
@pytest_twisted.ensureDeferred
async def test_a_ratelimit_override_synapse_cannot_compute_with_keeps_the_configured_limit(override, make_module,
                                                                                           api, gateway, caplog):
    make_module()
    assert await answer(api, gateway, "get_ratelimit_override_for_user", 200, {"result": override}) is None
    assert "Policy check get_ratelimit_override_for_user failed" in caplog.text


MALFORMED = [
    ("check_username_for_spam", "NOT_SPAM"),  # truthy: would hide every user from the directory
    ("get_media_config_for_user", ["m.upload.size"]),
    ("get_media_config_for_user", "104857600"),
    ("is_user_allowed_to_upload_media_of_size", "true"),
    ("is_user_allowed_to_upload_media_of_size", 1),
    ("is_user_allowed_to_upload_media_of_size", None),
    ("get_media_upload_limits_for_user", {"max_bytes": 1, "time_period_ms": 2}),
    ("get_media_upload_limits_for_user", [{"max_bytes": 1}]),
    ("get_media_upload_limits_for_user", [{"max_bytes": -1, "time_period_ms": 2}]),
    ("get_media_upload_limits_for_user", [{"max_bytes": 1, "time_period_ms": 0}]),
    ("get_media_upload_limits_for_user", [{"max_bytes": 1, "time_period_ms": True}]),
    ("get_media_upload_limits_for_user", [{"max_bytes": 1.5, "time_period_ms": 2}]),
    ("get_media_upload_limits_for_user", [{"max_bytes": "1", "time_period_ms": 2}]),
    ("get_media_upload_limits_for_user", [None]),
    # beyond the gateway's Java long: Synapse's SQLite cannot hold the time minus the period
    ("get_media_upload_limits_for_user", [{"max_bytes": 1, "time_period_ms": 2**63}]),
    ("get_media_upload_limits_for_user", [{"max_bytes": 99999999999999999999, "time_period_ms": 2}]),
    # beyond the gateway's Java int: Synapse's background update overflows float or SQL
    ("on_update", 10**30),
    ("default_batch_size", 2**31),
    ("min_batch_size", 99999999999999999999),
    ("get_ratelimit_override_for_user", {"per_second": 0.5}),
    ("get_ratelimit_override_for_user", {"per_second": -0.5, "burst_count": 10}),
    # Synapse's docs: 0.0 disables the limit; its code divides by it, and the request fails.
    ("get_ratelimit_override_for_user", {"per_second": 0, "burst_count": 10}),
    ("get_ratelimit_override_for_user", {"per_second": 0.5, "burst_count": -1}),
    ("get_ratelimit_override_for_user", {"per_second": float("nan"), "burst_count": 10}),
    ("get_ratelimit_override_for_user", {"per_second": float("inf"), "burst_count": 10}),
    ("get_ratelimit_override_for_user", {"per_second": True, "burst_count": 10}),
    ("get_ratelimit_override_for_user", {"per_second": 0.5, "burst_count": False}),
    ("get_ratelimit_override_for_user", {"per_second": 0.5, "burst_count": 2.5}),
    ("get_ratelimit_override_for_user", [0.5, 10]),
    # Synapse 1.67 fails the login with a 500 and a traceback: it cannot parse the first, nor store the second
    ("check_auth", "@nocolon"),
    ("check_auth", "@\ud800:example.com"),
    ("check_3pid_auth", "@nocolon"),
    # Synapse 1.67 registers the user, then refuses each of their joins; or fails the registration with a 500
    ("get_displayname_for_registration", "x" * 257),
    ("get_displayname_for_registration", "Carol \udc00"),
]


@pytest.mark.parametrize("name, result", MALFORMED)
def test_a_malformed_answer_is_an_unexpected_reply(name, result):
    call = Call(name, {}, fake_synapse())
    with pytest.raises(UnexpectedReply, match=f"^{name} answered .*, expected "):
        interpret(200, {"result": result}, BY_NAME[name].result, call)


@pytest_twisted.ensureDeferred
async def test_malformed_upload_limits_keep_the_configured_limits(make_module, api, gateway, caplog):
    make_module()
    limits = await answer(api, gateway, "get_media_upload_limits_for_user", 200,
                          {"result": [{"max_bytes": -1, "time_period_ms": 60000}]})
    assert limits is None
    assert "Policy check get_media_upload_limits_for_user failed" in caplog.text


@pytest.mark.parametrize("name, result, expected", [
    # the wrong type: the failure names the answer, written as JSON
    ("user_may_invite", lambda deep: deep, NOT_SPAM),
    # a presence state made up by the gateway: compared with Synapse's own as JSON
    ("get_users_for_states", lambda deep: {"@alice:example.com": [{"user_id": "@bob:example.com", "state": "online",
                                                                   "extra": deep}]}, {}),
])
@pytest_twisted.ensureDeferred
async def test_an_answer_nested_too_deeply_to_write_again_follows_the_failure_policy(name, result, expected,
                                                                                      make_module, api, gateway,
                                                                                      caplog):
    make_module({"on_failure": "fail-open"})
    # built here, not at collection: held for the whole session, it slows every garbage collection
    assert await answer(api, gateway, name, 200, {"result": result(nested(100_000))}) == expected
    gateway.replies.clear()
    assert f"Policy check {name} failed ({name} answered a value nested too deeply)" in caplog.text


@pytest.mark.parametrize("state", [
    {"user_id": "@new:example.com", "state": "online", "status_msg": ["x"]},
    {"user_id": "@new:example.com", "state": "bogus"},
    {"user_id": "@new:example.com", "state": ["online"]},
    {"user_id": "@new:example.com", "state": {"online": True}},
    {"user_id": "@new:example.com", "state": "online", "last_active_ts": "yesterday"},
    {"user_id": "@new:example.com", "state": "online", "last_user_sync_ts": -1},
    {"user_id": "@new:example.com", "state": "online", "last_active_ts": 2**63},
    {"user_id": "@new:example.com", "state": "online", "currently_active": 1},
])
def test_a_presence_state_synapse_could_not_hold_is_an_unexpected_reply(state):
    call = Call("get_users_for_states", {"state_updates": [BOB_ONLINE]}, fake_synapse())
    with pytest.raises(UnexpectedReply, match="^get_users_for_states answered .*, expected presence states"):
        interpret(200, {"result": {"@alice:example.com": [state]}}, BY_NAME["get_users_for_states"].result, call)


def test_gateway_text_in_a_failure_cannot_forge_a_log_line():
    failure = PolicyFailed("M_X\n2026-12-04 INFO forged", "\u202eesrever")
    assert "\n" not in str(failure) and "\u202e" not in str(failure)
    assert "\\n2026-12-04 INFO forged" in str(failure) and "\\u202eesrever" in str(failure)
