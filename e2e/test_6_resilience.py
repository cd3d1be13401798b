"""What admins meet in production: connections idle for longer than a minute, a gateway that
stops and comes back while Synapse keeps running, and a Synapse that starts first."""

from __future__ import annotations

import time

import pytest

from conftest import FILED_PASSWORD, shim_module
from harness.client import Homeserver
from harness.report import decisions_total
from harness.steps import ANTISPAM, SHIM, refused, seen, unique

IDLE_GAP = 65  # seconds: longer than our module's 60 s idle timeout


def _homeservers(world):
    """A with our module, and B with synapse-http-antispam where it is installed."""
    return [(world.a, world.hs_a)] + ([(world.b, world.hs_b)] if world.installation.has_antispam else [])


class IdleConnections:
    """Both modules' connections to the gateway, from their last request on: ``since`` is when
    the gateway's decision count stopped moving (notifications run after the client's answer),
    ``decisions`` that count."""

    def __init__(self, world) -> None:
        self.users = [(synapse, hs.register(unique("idle-"))) for synapse, hs in _homeservers(world)]
        self.rooms = [user.create_room() for _, user in self.users]
        self.decisions = decisions_total(world.gateway.management_url)
        while True:
            time.sleep(1)
            now = decisions_total(world.gateway.management_url)
            if now == self.decisions:
                break
            self.decisions = now
        self.since = time.monotonic()


@pytest.fixture(scope="session")
def idle_connections(world):
    return IdleConnections(world)


# conftest.py runs the tests that need neither Synapse A nor B nor the session's gateway between
# these two, while the connections sit idle; alone, the second waits the whole gap.
@pytest.mark.idle_gap_begins
def test_the_idle_gap_begins_after_a_room_is_created_through_each_module(world, idle_connections):
    for (synapse, user), room in zip(idle_connections.users, idle_connections.rooms):
        assert room in synapse.rooms_created_by(user.user_id)  # read from its database: the gateway is not asked


@pytest.mark.idle_gap_ends
def test_checks_after_an_idle_gap_longer_than_a_minute_succeed_on_both_modules(world, report, idle_connections):
    time.sleep(max(0.0, IDLE_GAP - (time.monotonic() - idle_connections.since)))
    assert decisions_total(world.gateway.management_url) == idle_connections.decisions, \
        "a request reached the gateway during the idle gap"
    idle = time.monotonic() - idle_connections.since
    for _, user in idle_connections.users:
        user.create_room()
    for synapse, _ in _homeservers(world):
        failures = [line for line in synapse.log_lines()
                    if "Policy check" in line or "antispam server" in line or "closed a connection" in line]
        assert failures == [], f"{synapse.name}: {failures}"
    report.check("user_may_create_room", f"{SHIM} and {ANTISPAM}", f"creates a room after {idle:.0f} s idle",
                 "200 on both, no failed or retried request")


def test_a_stopped_gateway_fails_each_callback_by_its_policy_and_a_restarted_one_answers_again(world, report):
    a, b = world.hs_a, world.hs_b
    antispam = world.installation.has_antispam
    # A homeserver whose module fails closed on messages too (A's fails open there), starting
    # while the rest is set up.
    strict = world.homeserver("E", [shim_module(world.gateway_url, check_event_for_spam="fail-closed")])
    strict.launch()
    alice, friend, bob = a.register(unique("alice-")), a.register(unique("friend-")), b.register(unique("bob-"))
    room, room_b = alice.create_room(preset="public_chat"), bob.create_room()
    friend.join(room)
    strict.wait_until_answering()
    carol = Homeserver(strict.url, strict.server_name).register(unique("carol-"))
    strict_room = carol.create_room()
    carol.say(strict_room, "said while the gateway is up")
    rooms_of_alice = world.a.rooms_created_by(alice.user_id)
    world.stop_gateway()
    # A homeserver that starts while the gateway is down logs in through the gateway's password
    # file once the gateway is back, without a restart. It starts while the others are checked.
    early = world.homeserver("C", [shim_module(world.gateway_url)], server_name=world.a.server_name)
    early.launch()
    try:
        event_id = alice.say(room, "said while the gateway is down")
        assert friend.event(room, event_id)["content"]["body"] == "said while the gateway is down"
        report.check("check_event_for_spam", SHIM, "sends a message, gateway down (fail-open)",
                     "200, delivered unchanged, not marked as spam")
        error = refused(carol.say, strict_room, "said while the gateway is down, failing closed")
        assert (error.status, error.errcode) == (503, "M_UNKNOWN")
        assert _said(carol, strict_room) == ["said while the gateway is up"]
        report.check("check_event_for_spam", SHIM, "sends a message, gateway down (fail-closed)",
                     "503 M_UNKNOWN: retryable, absent from /messages")
        error = refused(alice.create_room)
        assert (error.status, error.errcode) == (503, "M_UNKNOWN")
        assert world.a.rooms_created_by(alice.user_id) == rooms_of_alice
        report.check("user_may_create_room", SHIM, "creates a room, gateway down (fail-closed)",
                     "503 M_UNKNOWN: retryable, no room created")
        newcomer = a.register(unique("newcomer-"))
        assert newcomer.whoami()["user_id"] == newcomer.user_id
        report.check("get_username_for_registration", SHIM, "registers, gateway down",
                     "200 with the name asked for: Synapse's own choice")

        if antispam:
            bob.say(room_b, "said on B while the gateway is down")
            report.check("check_event_for_spam", ANTISPAM, "sends a message, gateway down (its fail_open default)",
                         "200")
            error = refused(bob.create_room)
            assert (error.status, error.errcode) == (403, "M_UNKNOWN")  # its own refusal, not a retryable error
            report.check("user_may_create_room", ANTISPAM, "creates a room, gateway down",
                         f"{seen(error)}: synapse-http-antispam fails closed with a refusal")

        early.wait_until_answering()
        early_client = Homeserver(early.url, early.server_name)
        early_client.register("filed", password="a local password on C")
    finally:
        world.start_gateway()

    alice.create_room()
    bob.create_room()
    carol.say(strict_room, "said once the gateway is back")
    assert _said(carol, strict_room) == ["said while the gateway is up", "said once the gateway is back"]
    report.check("user_may_create_room", f"{SHIM} and {ANTISPAM}", "creates a room once the gateway is back",
                 "200, no Synapse restart")
    user = early_client.login_user("filed", FILED_PASSWORD)
    assert user.user_id == f"@filed:{early.server_name}"
    report.check("check_auth", SHIM, "logs in on a Synapse started before the gateway",
                 "200 through the password file")


def _said(user, room):
    """The room's message bodies, oldest first, as /messages gives them to a member."""
    return [event["content"]["body"] for event in reversed(user.messages(room)) if event["type"] == "m.room.message"]
