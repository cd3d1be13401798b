"""Third-party rules through our module on Synapse A."""

from __future__ import annotations

from harness.steps import SHIM, refused, seen, unique


def test_the_censor_replaces_or_refuses_event_content(world, report):
    alice = world.hs_a.register(unique("alice-"))
    room = alice.create_room()
    event_id = alice.say(room, "please censor-me now")
    assert alice.event(room, event_id)["content"]["body"] == "please [censored] now"
    report.check("check_event_allowed", SHIM, "sends a message the censor rewrites", "stored as rewritten")

    error = refused(alice.say, room, "a forbidden-word here")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    report.check("check_event_allowed", SHIM, "sends a message the censor refuses", seen(error))


def test_room_creation_requests_are_rewritten_or_refused(world, report):
    alice = world.hs_a.register(unique("alice-"))
    room = alice.create_room(name="please rewrite-me")
    assert alice.state(room, "m.room.topic")["topic"] == "Set by the policy service"
    report.check("on_create_room", SHIM, "creates a room the policy rewrites", "the room has the policy's topic")

    error = refused(alice.create_room, name="no-rooms here")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    assert error.body["error"] == "This kind of room is not allowed here"
    report.check("on_create_room", SHIM, "creates a room the policy refuses", f"{seen(error)} with its message")


def test_admins_may_not_shut_down_protected_rooms(world, report):
    hs = world.hs_a
    admin = hs.register_admin(unique("admin-"), world.a.registration_shared_secret)
    protected, ordinary = admin.create_room(), admin.create_room()
    world.services.protected_rooms.add(protected)
    error = refused(admin.call, "DELETE", f"/_synapse/admin/v1/rooms/{protected}", {})
    assert error.status in (400, 403)
    report.check("check_can_shutdown_room", SHIM, "an admin deletes a protected room", seen(error))
    assert "kicked_users" in admin.call("DELETE", f"/_synapse/admin/v1/rooms/{ordinary}", {})


def test_users_the_policy_keeps_cannot_deactivate_their_account(world, report):
    hs = world.hs_a
    password = "correct horse battery staple"
    keeper, leaver = hs.register(unique("keep-")), hs.register(unique("leaver-"))

    def deactivate(user):
        return user.call("POST", "/_matrix/client/v3/account/deactivate", {"auth": {
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user.user_id},
            "password": password}})

    error = refused(deactivate, keeper)
    assert error.status in (400, 403)
    report.check("check_can_deactivate_user", SHIM, "a kept user deactivates their account", seen(error))
    deactivate(leaver)
    record = world.services.wait_for_audit("on_user_deactivation_status_changed",
                                           lambda r: r["arguments"]["user_id"] == leaver.user_id)
    assert record["arguments"]["deactivated"] is True
    report.check("on_user_deactivation_status_changed", SHIM, "a user deactivates their account",
                 "audit record deactivated=true")
