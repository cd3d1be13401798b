"""The spam checker again, through synapse-http-antispam v0.5.0 on Synapse B, pointed at the
gateway's /v1/spam_checker endpoints (the callbacks that module can serve on Synapse 1.67).
Listed users are refused through it in test_1_spam_checker.py, which runs on both modules."""

from __future__ import annotations

import pytest

from harness.client import q
from harness.steps import ANTISPAM, homeserver_with, refused, seen, unique


@pytest.fixture(autouse=True)
def antispam_installed(world):
    homeserver_with(world, ANTISPAM)  # skips when synapse_http_antispam is not installed


def test_messages_and_the_directory_through_synapse_http_antispam(world, report):
    hs = world.hs_b
    alice, noisy, quiet = hs.register(unique("alice-")), hs.register(unique("noisy-")), hs.register(unique("quiet-"))
    room = alice.create_room(preset="public_chat")
    noisy.join(room)
    alice.say(room, "hello")
    error = refused(noisy.say, room, "buy my coins")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("check_event_for_spam", ANTISPAM, "a listed sender sends a message", seen(error))

    alice.call("PUT", f"/_matrix/client/v3/directory/list/room/{room}", {"visibility": "public"})
    quiet_room = quiet.create_room()
    error = refused(quiet.call, "PUT", f"/_matrix/client/v3/directory/list/room/{quiet_room}",
                    {"visibility": "public"})
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_publish_room", ANTISPAM, "a refused user publishes a room", seen(error))

    error = refused(alice.call, "POST", f"/_matrix/client/v3/rooms/{room}/invite", {
        "id_server": world.services.identity_server, "id_access_token": "e2e", "medium": "email",
        "address": "spam@example.org"})
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_send_3pid_invite", ANTISPAM, "invites an address the policy service refuses", seen(error))


def test_aliases_are_created_on_synapse_b_as_its_enabled_callbacks_leave_them_unchecked(world, report):
    # The example of docs/synapse.md once enabled user_may_create_room_alias: synapse-http-antispam
    # cannot write the RoomAlias Synapse passes as JSON, so every alias creation failed.
    hs = world.hs_b
    alice = hs.register(unique("alice-"))
    room = alice.create_room()
    alias = f"#{unique('put-')}:{hs.server_name}"
    alice.call("PUT", f"/_matrix/client/v3/directory/room/{q(alias)}", {"room_id": room})
    assert hs.request("GET", f"/_matrix/client/v3/directory/room/{q(alias)}")["room_id"] == room
    name = unique("created-")
    created = alice.create_room(room_alias_name=name)
    assert hs.request("GET", f"/_matrix/client/v3/directory/room/{q(f'#{name}:{hs.server_name}')}")["room_id"] == created
    report.check("user_may_create_room_alias", ANTISPAM, "creates an alias, and a room with room_alias_name",
                 "200 both: not in enabled_callbacks, so not asked")
