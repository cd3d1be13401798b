"""Spam-checker callbacks through our module on Synapse A: each decision as a client sees it."""

from __future__ import annotations

import hashlib

import pytest

from harness.steps import ANTISPAM, SHIM, eventually, homeserver_with, refused, seen, unique


@pytest.mark.parametrize("via", [SHIM, ANTISPAM])
def test_a_listed_user_may_not_create_rooms_join_or_invite(world, report, via):
    hs = homeserver_with(world, via)
    alice, spammer = hs.register(unique("alice-")), hs.register(unique("spammer-"))
    room = alice.create_room(preset="public_chat")

    error = refused(spammer.create_room)
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_create_room", via, "a listed user creates a room", seen(error))

    error = refused(spammer.join, room)
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_join_room", via, "a listed user joins a public room", seen(error))

    error = refused(spammer.invite, room, alice.user_id)
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_invite", via, "a listed user invites", seen(error))

    friend = hs.register(unique("friend-"))
    alice.invite(room, friend.user_id)
    assert friend.join(room) == room


@pytest.mark.parametrize("via", [SHIM, ANTISPAM])
def test_a_malformed_room_id_in_a_join_path_gets_synapses_own_error(world, report, via):
    # Synapse asks user_may_join_room about the path's room ID before it checks it: the client gets
    # the error an admin gets (whom Synapse does not ask), not a 503 or a refusal from the module
    hs = homeserver_with(world, via)
    server = world.a if via == SHIM else world.b
    alice = hs.register(unique("alice-"))
    admin = hs.register_admin(unique("admin-"), server.registration_shared_secret)
    for room in ("junk", "#not-a-room-id:" + server.server_name):
        path = f"/_matrix/client/v3/rooms/{_q(room)}/join"
        error, expected = refused(alice.call, "POST", path, {}), refused(admin.call, "POST", path, {})
        assert (error.status, error.errcode) == (expected.status, expected.errcode), error
    report.check("user_may_join_room", via, "a user joins a malformed room ID (/rooms/junk/join)", seen(error))


def test_a_listed_sender_may_not_send_messages_or_state(world, report):
    hs = world.hs_a
    alice, noisy = hs.register(unique("alice-")), hs.register(unique("noisy-"))
    room = alice.create_room(preset="public_chat")
    noisy.join(room)
    alice.say(room, "hello")

    error = refused(noisy.say, room, "buy my coins")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    error = refused(noisy.set_state, room, "org.example.status", {"text": "spam"}, noisy.user_id)
    assert error.errcode == "M_FORBIDDEN"
    report.check("check_event_for_spam", SHIM, "a listed sender sends a message and a state event", seen(error))
    assert "buy my coins" not in [e["content"].get("body") for e in alice.messages(room)]


def test_third_party_invites_are_checked_before_and_after_the_lookup(world, report):
    hs = world.hs_a
    alice = hs.register(unique("alice-"))
    room = alice.create_room()
    identity_server = world.services.identity_server

    def invite(address):
        return alice.call("POST", f"/_matrix/client/v3/rooms/{room}/invite", {
            "id_server": identity_server, "id_access_token": "e2e", "medium": "email", "address": address})

    error = refused(invite, "blocked@example.org")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    assert "can not be invited" in error.body["error"]
    report.check("check_threepid_can_be_invited", SHIM, "invites a refused email address", seen(error))

    error = refused(invite, "spam@example.org")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_send_3pid_invite", SHIM, "invites an address the policy service refuses", seen(error))

    invite("friend@example.org")
    state = alice.call("GET", f"/_matrix/client/v3/rooms/{room}/state")
    assert [e for e in state if e["type"] == "m.room.third_party_invite"], "the allowed invite is in the room"
    report.check("check_threepid_can_be_invited", SHIM, "invites an allowed address", "200, invite stored")


def test_aliases_and_the_room_directory_follow_the_policy(world, report):
    hs = world.hs_a
    alice, quiet = hs.register(unique("alice-")), hs.register(unique("quiet-"))
    room = alice.create_room()
    alias = f"#{unique('fine-')}:{hs.server_name}"
    alice.call("PUT", f"/_matrix/client/v3/directory/room/{_q(alias)}", {"room_id": room})
    # Synapse takes an empty localpart, and counts the limit of 255 in characters, not bytes: the
    # gateway is asked about both, and judges them rather than refusing them as malformed.
    for unusual in (f"#:{hs.server_name}", f"#{unique('')}{chr(0x65E5) * 100}:{hs.server_name}"):
        alice.call("PUT", f"/_matrix/client/v3/directory/room/{_q(unusual)}", {"room_id": room})
        assert alice.call("GET", f"/_matrix/client/v3/directory/room/{_q(unusual)}")["room_id"] == room
    forbidden = f"#{unique('forbidden-')}:{hs.server_name}"
    error = refused(alice.call, "PUT", f"/_matrix/client/v3/directory/room/{_q(forbidden)}", {"room_id": room})
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_create_room_alias", SHIM, "creates a refused alias (an allowed one works)", seen(error))

    alice.call("PUT", f"/_matrix/client/v3/directory/list/room/{room}", {"visibility": "public"})
    quiet_room = quiet.create_room()
    error = refused(quiet.call, "PUT", f"/_matrix/client/v3/directory/list/room/{quiet_room}",
                    {"visibility": "public"})
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("user_may_publish_room", SHIM, "a refused user publishes a room (another may)", seen(error))

    secret = alice.create_room(name="secret plans")
    error = refused(alice.call, "PUT", f"/_matrix/client/v3/directory/list/room/{secret}", {"visibility": "public"})
    assert error.status == 403
    report.check("check_visibility_can_be_modified", SHIM, "publishes a room the policy keeps private", seen(error))
    for published, visibility in ((room, "public"), (secret, "private"), (quiet_room, "private")):
        assert alice.call("GET", f"/_matrix/client/v3/directory/list/room/{published}")["visibility"] == visibility


def test_users_the_policy_hides_are_not_found_in_the_user_directory(world, report):
    hs = world.hs_a
    searcher = hs.register(unique("searcher-"))
    tag = unique("dir")
    visible, hidden = hs.register(unique("visible-")), hs.register(unique("hidden-"))
    visible.call("PUT", f"/_matrix/client/v3/profile/{_q(visible.user_id)}/displayname",
                 {"displayname": f"{tag} visible person"})
    hidden.call("PUT", f"/_matrix/client/v3/profile/{_q(hidden.user_id)}/displayname",
                {"displayname": f"{tag} hidden person"})

    def found():
        results = searcher.call("POST", "/_matrix/client/v3/user_directory/search", {"search_term": tag})["results"]
        ids = [r["user_id"] for r in results]
        return ids if visible.user_id in ids else None

    ids = eventually(found, "the visible user in the directory")
    assert hidden.user_id not in ids
    report.check("check_username_for_spam", SHIM, "searches the user directory", "the hidden user is left out")


def test_registration_is_allowed_denied_or_shadow_banned(world, report):
    hs = world.hs_a
    error = refused(hs.register, unique("denied-"))
    assert error.status == 429  # Synapse hides a denied registration behind "Rate limited"
    report.check("check_registration_for_spam", SHIM, "registers a name the policy denies", seen(error))

    alice, shadow = hs.register(unique("alice-")), hs.register(unique("shadow-"))
    room = alice.create_room(preset="public_chat")
    shadow.join(room)
    shadow.say(room, "shadow words")  # the sender sees success...
    alice.say(room, "after")
    bodies = [e["content"].get("body") for e in alice.messages(room)]
    assert "after" in bodies and "shadow words" not in bodies  # ...nobody else sees it
    report.check("check_registration_for_spam", SHIM, "a shadow-banned user sends a message",
                 "200 for the sender, invisible to the room")


def test_registration_names_can_come_from_the_policy(world, report):
    hs = world.hs_a
    suffix = unique("")
    user = hs.register("rename-" + suffix)
    assert user.user_id == f"@renamed-{suffix}:{hs.server_name}"
    report.check("get_username_for_registration", SHIM, "registers rename-…", f"became {user.localpart}")
    profile = user.call("GET", f"/_matrix/client/v3/profile/{_q(user.user_id)}")
    assert profile["displayname"] == "Named by policy"
    report.check("get_displayname_for_registration", SHIM, "registers rename-…", "display name from the policy")


def test_refused_media_is_not_stored(world, report):
    alice = world.hs_a.register(unique("alice-"))
    evil = b"\x89PNG\r\n\x1a\n" + unique("evil media ").encode()
    world.services.banned_media.add(hashlib.sha256(evil).hexdigest())
    error = refused(alice.upload, evil, "image/png")
    assert (error.status, error.errcode) == (400, "M_UNKNOWN")  # Synapse 1.67's "Bad content"
    report.check("check_media_file_for_spam", SHIM, "uploads a file whose hash is banned", seen(error))
    assert alice.upload(b"harmless bytes", "text/plain").startswith("mxc://")


def test_federated_events_the_policy_drops_never_reach_local_users(world, report):
    alice = world.hs_a.register(unique("alice-"))
    room = alice.create_room(preset="public_chat")
    remote = world.hs_b.register(unique("remote-"))
    remote.call("POST", f"/_matrix/client/v3/join/{room}?server_name={world.a.server_name}", {})
    remote.say(room, "a federated hello")
    eventually(lambda: "a federated hello" in _bodies(alice, room), "the federated hello on A")

    dropped = remote.say(room, "drop-me: federated spam")
    eventually(lambda: [c for c in world.services.calls("/policy/spam_checker/should_drop_federated_event")
                        if c["event"]["event_id"] == dropped], "A asking about the spam")
    alice.say(room, "after the spam")
    assert "drop-me: federated spam" not in _bodies(alice, room)
    report.check("should_drop_federated_event", SHIM, "a remote user (on B) sends a message the policy drops",
                 "dropped on A (until a later event from B names it as a prev_event)")


def _bodies(user, room):
    return [e["content"].get("body") for e in user.messages(room)]


def _q(value: str) -> str:
    import urllib.parse
    return urllib.parse.quote(value, safe="")
