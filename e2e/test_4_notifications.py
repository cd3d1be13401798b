"""Notifications, presence and background updates through our module on Synapse A: what reaches
the gateway's audit webhook, what a client sees of presence routing, what Synapse's background
updates ask."""

from __future__ import annotations

from harness.steps import SHIM, eventually, unique


def test_notifications_reach_the_audit_webhook(world, report):
    hs = world.hs_a
    services = world.services
    user = hs.register(unique("audited-"))
    services.wait_for_audit("on_user_registration", lambda r: r["arguments"]["user"] == user.user_id)
    report.check("on_user_registration", SHIM, "registers", "audit record")

    room = user.create_room()
    event_id = user.say(room, "audited words")
    record = services.wait_for_audit("on_new_event", lambda r: r["arguments"]["event"]["event_id"] == event_id)
    assert record["arguments"]["event"]["content"]["body"] == "audited words"
    report.check("on_new_event", SHIM, "sends a message", "audit record with the event")

    user.call("PUT", f"/_matrix/client/v3/profile/{user.user_id}/displayname", {"displayname": "Audited Person"})
    record = services.wait_for_audit("on_profile_update", lambda r: r["arguments"]["user_id"] == user.user_id)
    assert record["arguments"]["new_profile"]["display_name"] == "Audited Person"
    report.check("on_profile_update", SHIM, "sets a display name", "audit record with the new profile")

    user.call("PUT", f"/_matrix/client/v3/user/{user.user_id}/account_data/org.example.e2e", {"answer": 42})
    record = services.wait_for_audit("on_account_data_updated", lambda r: r["arguments"]["user_id"] == user.user_id)
    assert record["arguments"]["account_data_type"] == "org.example.e2e"
    assert record["arguments"]["content"] == {"answer": 42}
    report.check("on_account_data_updated", SHIM, "sets account data", "audit record with the content")

    admin = hs.register_admin(unique("admin-"), world.a.registration_shared_secret)
    admin.call("PUT", f"/_synapse/admin/v2/users/{user.user_id}",
               {"threepids": [{"medium": "email", "address": f"{user.localpart}@example.org"}]})
    record = services.wait_for_audit("on_threepid_bind", lambda r: r["arguments"]["user_id"] == user.user_id)
    assert record["arguments"]["address"] == f"{user.localpart}@example.org"
    report.check("on_threepid_bind", SHIM, "an admin adds an email address", "audit record")

    user.logout()
    record = services.wait_for_audit("on_logged_out", lambda r: r["arguments"]["user_id"] == user.user_id)
    assert record["arguments"]["access_token"] == "<redacted>"
    report.check("on_logged_out", SHIM, "logs out", "audit record, token redacted")


def test_routed_presence_reaches_users_who_share_no_room(world, report):
    hs = world.hs_a
    watcher = hs.register("watcher")
    watched = hs.register("watched")
    since = watcher.sync()["next_batch"]
    watched.call("PUT", f"/_matrix/client/v3/presence/{watched.user_id}/status",
                 {"presence": "online", "status_msg": "routed by the gateway"})

    def presence():
        nonlocal since
        answer = watcher.sync(since, timeout_ms=1000)
        since = answer["next_batch"]
        return [e for e in answer.get("presence", {}).get("events", [])
                if e["sender"] == watched.user_id and e["content"].get("status_msg") == "routed by the gateway"]

    eventually(presence, "the watched user's presence in the watcher's sync")
    report.check("get_users_for_states", SHIM, "a routed user sets a status; the receiver syncs",
                 "the receiver gets it without a shared room")
    report.check("get_interested_users", SHIM, "the receiver syncs", "sees the routed user's presence")


def test_background_updates_are_paced_by_the_gateway(world, report):
    hs = world.hs_a
    admin = hs.register_admin(unique("admin-"), world.a.registration_shared_secret)
    for _ in range(5):  # rooms for the update to go through, several batches of two
        admin.create_room()
    asked = {name: world.gateway.counter(name, "value") for name in BACKGROUND_CALLBACKS}
    admin.call("POST", "/_synapse/admin/v1/background_updates/start_job", {"job_name": "populate_stats_process_rooms"})

    def done():
        status = admin.call("GET", "/_synapse/admin/v1/background_updates/status")
        return not status.get("current_updates")

    eventually(done, "the background update to finish", timeout=60)
    for name in ("on_update", "min_batch_size"):
        assert world.gateway.counter(name, "value") > asked[name], f"{name} was not asked"
        report.check(name, SHIM, "an admin reruns the populate_stats_process_rooms job",
                     "it runs to the end in batches the gateway sized")
    # Synapse asks for a default batch size once per update and process: at startup, for the
    # updates of a new database (this job's first run among them).
    assert asked["default_batch_size"] > 0
    report.check("default_batch_size", SHIM, "Synapse starts on a new database", "its background updates ran")


BACKGROUND_CALLBACKS = ("on_update", "default_batch_size", "min_batch_size")
