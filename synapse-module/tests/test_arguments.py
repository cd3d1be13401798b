"""Every callback's Python arguments reach the gateway as the JSON it documents."""

import hashlib
import inspect

import pytest
import pytest_twisted
from twisted.internet import reactor

from calls import ARGUMENTS, FEDERATED_INVITE, MESSAGE, MESSAGE_JSON, NEUTRAL_RESULT, STATE, invoke
from conftest import EVERY_CALLBACK
from fakes import Codes, FileInfo, ReadableFileWrapper, RoomV12CreateEvent, RustRequester, ThumbnailInfo, UserID
from matrix_policy_gateway_shim.callbacks import BY_NAME
from matrix_policy_gateway_shim.client import Reply


@pytest.fixture
def neutral_gateway(gateway):
    for name, result in NEUTRAL_RESULT.items():
        gateway.replies[BY_NAME[name].path] = Reply(200, {"result": result})
    return gateway


def test_the_argument_table_covers_every_callback():
    assert {name for name, _, _ in ARGUMENTS} | {"check_media_file_for_spam"} == set(EVERY_CALLBACK)


@pytest.mark.parametrize("name, args, expected", ARGUMENTS, ids=[case[0] for case in ARGUMENTS])
@pytest_twisted.ensureDeferred
async def test_arguments_are_sent_as_documented_json(name, args, expected, make_module, api, neutral_gateway,
                                                     background):
    make_module()
    await invoke(api, name, *(args() if callable(args) else args), background=background)
    assert neutral_gateway.body(BY_NAME[name].path) == expected


@pytest_twisted.ensureDeferred
async def test_events_are_sent_in_client_format_without_federation_fields(make_module, api, neutral_gateway):
    make_module()
    await api.callback("check_event_for_spam")(MESSAGE)
    sent = neutral_gateway.body("/v1/spam_checker/check_event_for_spam")["event"]
    assert sent == MESSAGE_JSON
    assert not {"auth_events", "prev_events", "hashes", "signatures", "depth"} & set(sent)


@pytest_twisted.ensureDeferred
async def test_a_media_file_is_sent_as_its_hash_size_and_type_streamed_in_chunks(make_module, api, neutral_gateway,
                                                                                tmp_path):
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4096  # 1 MiB and a bit: 17 chunks
    path = tmp_path / "upload"
    path.write_bytes(content)
    wrapper = ReadableFileWrapper(str(path), reactor)
    info = FileInfo(server_name=None, file_id="abcdef", thumbnail=ThumbnailInfo(32, 32, "scale", "image/png", 80))
    make_module()

    await api.callback("check_media_file_for_spam")(wrapper, info)

    assert neutral_gateway.body("/v1/spam_checker/check_media_file_for_spam") == {
        "file": {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content), "media_type": "image/png"},
        "file_info": {"server_name": None, "file_id": "abcdef", "url_cache": False,
                      "thumbnail": {"width": 32, "height": 32, "method": "scale", "type": "image/png", "length": 80}},
    }
    assert wrapper.chunks == 17 and wrapper.largest_chunk == ReadableFileWrapper.CHUNK_SIZE


@pytest_twisted.ensureDeferred
async def test_a_file_of_unknown_type_is_sent_without_media_type(make_module, api, neutral_gateway, tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"just some text")
    make_module()
    await api.callback("check_media_file_for_spam")(ReadableFileWrapper(str(path), reactor),
                                                     FileInfo(server_name="remote.example", file_id="x"))
    sent = neutral_gateway.body("/v1/spam_checker/check_media_file_for_spam")
    assert sent["file"]["media_type"] is None and sent["file"]["size"] == 14


@pytest_twisted.ensureDeferred
async def test_a_client_request_holding_a_lone_surrogate_is_still_judged_by_the_gateway(make_module, api, gateway):
    # Synapse reads "\ud800" from a client's JSON, as a name too; sent as unsendable, a fail-open check let it through
    make_module({"on_failure": "fail-open"})
    gateway.replies[BY_NAME["user_may_create_room"].path] = Reply(403, {"errcode": "M_FORBIDDEN"})
    room_config = {"preset": "public_chat", "name": "caf\u00e9", "junk": "\ud800", "\udc00": {"\ud800": 1}}
    assert await api.callback("user_may_create_room")("@alice:example.com", room_config) is Codes.FORBIDDEN
    assert gateway.body("/v1/spam_checker/user_may_create_room")["room_config"] == room_config


# Synapse checks only that these keys are in the client's body (or the admin's: the user admin API's
# threepids, stored as given and then announced): (callback, arguments, the fields sent)
_CLIENT_VALUES_OF_ANY_TYPE = [
    ("check_login_for_spam", ("@alice:example.com", 0, 5, [(None, "192.0.2.1")], None),
     {"device_id": "0", "initial_display_name": "5"}),
    ("user_may_send_3pid_invite", ("@alice:example.com", ["email"], None, "!room:example.com"),
     {"medium": '["email"]', "address": "null"}),
    ("check_threepid_can_be_invited", (7, {"to": "bob@example.org"}, STATE),
     {"medium": "7", "address": '{"to":"bob@example.org"}'}),
    ("check_3pid_auth", ("msisdn", 4415550100, "secret"), {"medium": "msisdn", "address": "4415550100"}),
    ("on_add_user_third_party_identifier", ("@alice:example.com", "msisdn", 447700900000),
     {"medium": "msisdn", "address": "447700900000"}),
    ("on_threepid_bind", ("@alice:example.com", "msisdn", 447700900000), {"address": "447700900000"}),
]


@pytest.mark.parametrize("name, args, sent", _CLIENT_VALUES_OF_ANY_TYPE, ids=[case[0] for case in _CLIENT_VALUES_OF_ANY_TYPE])
@pytest_twisted.ensureDeferred
async def test_a_client_value_that_synapse_passes_unchecked_is_sent_as_text_for_the_gateway_to_judge(
        name, args, sent, make_module, api, neutral_gateway, background):
    # the gateway refuses a number where a string belongs (400), and a fail-open check would let the client
    # pass; a notification would be lost
    make_module()
    await invoke(api, name, *args, background=background)
    body = neutral_gateway.body(BY_NAME[name].path)
    assert {field: body[field] for field in sent} == sent


@pytest_twisted.ensureDeferred
async def test_newer_synapse_arguments_are_passed_on(make_module, api, neutral_gateway):
    make_module()
    await api.callback("check_username_for_spam")({"user_id": "@a:example.com", "display_name": None,
                                                   "avatar_url": None}, "@searcher:example.com")
    await api.callback("user_may_create_room")("@alice:example.com", {"preset": "public_chat"})
    assert neutral_gateway.body("/v1/spam_checker/check_username_for_spam")["requester_id"] == "@searcher:example.com"
    assert neutral_gateway.body("/v1/spam_checker/user_may_create_room")["room_config"] == {"preset": "public_chat"}


def test_callbacks_have_the_parameters_synapse_counts(make_module, api):
    """Synapse passes requester_id and room_config only to callbacks with two parameters,
    and calls check_registration_for_spam with four."""
    make_module()
    def parameters(name):
        return list(inspect.signature(api.callback(name)).parameters)
    assert parameters("check_username_for_spam") == ["user_profile", "requester_id"]
    assert parameters("user_may_create_room") == ["user_id", "room_config"]
    assert parameters("check_registration_for_spam") == ["email_threepid", "username", "request_info",
                                                         "auth_provider_id"]
    assert api.callback("user_may_invite").__qualname__ == "PolicyGatewayModule.user_may_invite"


@pytest_twisted.ensureDeferred
async def test_each_callback_uses_its_own_timeout(make_module, api, neutral_gateway):
    make_module({"timeout": {"default": "3s", "user_may_invite": "250ms"}})
    await api.callback("user_may_invite")("@a:example.com", "@b:example.com", "!r:example.com")
    await api.callback("user_may_publish_room")("@a:example.com", "!r:example.com")
    timeouts = {path: timeout for path, _, timeout in neutral_gateway.requests}
    assert timeouts == {"/v1/spam_checker/user_may_invite": 0.25, "/v1/spam_checker/user_may_publish_room": 3.0}


@pytest_twisted.ensureDeferred
async def test_user_may_send_state_event_takes_synapses_keyword_arguments(make_module, api, neutral_gateway):
    # Synapse's room.py calls this one with keywords, not positionally.
    make_module()
    await api.callback("user_may_send_state_event")(user_id="@alice:example.com", room_id="!room:example.com",
                                                    event_type="m.room.topic", state_key="",
                                                    content={"topic": "Buy now"})
    assert neutral_gateway.body(BY_NAME["user_may_send_state_event"].path)["event_type"] == "m.room.topic"


@pytest_twisted.ensureDeferred
async def test_a_federated_invite_is_sent_with_its_stripped_state(make_module, api, neutral_gateway):
    make_module()
    await api.callback("federated_user_may_invite")(FEDERATED_INVITE)
    sent = neutral_gateway.body(BY_NAME["federated_user_may_invite"].path)["event"]
    assert sent["sender"] == "@mallory:example.org" and sent["state_key"] == "@alice:example.com"
    assert sent["unsigned"]["invite_room_state"][0]["content"] == {"name": "Free stuff"}
    assert "signatures" not in sent and "prev_events" not in sent


@pytest_twisted.ensureDeferred
async def test_a_requester_of_synapse_1_155_or_later_names_its_appservice(make_module, api, neutral_gateway):
    make_module()
    requester = RustRequester(user=UserID("@bridge-bot:example.com"), access_token_id=None, is_guest=False, scope=set(),
                              shadow_banned=False, device_id=None, app_service_id="telegram",
                              authenticated_entity="@bridge-bot:example.com")
    await api.callback("on_create_room")(requester, {"preset": "private_chat"}, False)
    assert neutral_gateway.body(BY_NAME["on_create_room"].path)["requester"]["app_service_id"] == "telegram"


@pytest_twisted.ensureDeferred
async def test_a_room_version_12_create_event_is_sent_with_its_room_id(make_module, api, neutral_gateway):
    # Synapse's own client format adds it (rust/src/events/serialize.rs, v1.157): the gateway requires it.
    create = RoomV12CreateEvent("$" + "c" * 43, "@alice:example.com")
    make_module()
    await api.callback("check_event_allowed")(create, {("m.room.create", ""): create})
    sent = neutral_gateway.body(BY_NAME["check_event_allowed"].path)
    assert sent["event"]["room_id"] == "!" + "c" * 43
    assert sent["state_events"][0]["room_id"] == "!" + "c" * 43


@pytest.mark.parametrize("visibility", ["unlisted", None, 1])
@pytest_twisted.ensureDeferred
async def test_a_create_room_visibility_other_than_public_is_sent_as_private(visibility, make_module, api,
                                                                              neutral_gateway):
    # Synapse's createRoom passes the request's visibility unchecked, and makes any value but "public"
    # a private room (handlers/room.py, v1.157): the gateway takes "public" or "private".
    make_module()
    assert await api.callback("check_visibility_can_be_modified")("!room:example.com", {}, visibility) is True
    assert neutral_gateway.body(BY_NAME["check_visibility_can_be_modified"].path)["new_visibility"] == "private"
