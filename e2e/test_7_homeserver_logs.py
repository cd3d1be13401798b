"""Last: what the whole run amounts to, and what it left in the logs an admin reads."""

from __future__ import annotations

import time

from conftest import NOT_IN_SYNAPSE_1_67
from harness.client import Homeserver
from matrix_policy_gateway_shim.callbacks import ALL
from harness.steps import unique

RESTARTED = "Re-starting finished log context"


def _warnings_for_a_conversation(synapse) -> int:
    """Log-context warnings a room creation and five messages add to ``synapse``'s log."""
    before = sum(RESTARTED in line for line in synapse.log_lines())
    user = Homeserver(synapse.url, synapse.server_name).register(unique("talker-"))
    room = user.create_room()
    for n in range(5):
        user.say(room, f"message {n}")
    time.sleep(3)  # notifications run in the background
    return sum(RESTARTED in line for line in synapse.log_lines()) - before


def test_our_notifications_add_no_log_context_warnings_to_synapses_own(world, report):
    # Synapse 1.67 runs on_new_event from the sending request's log context after the request has
    # been answered, and warns on its own each time it switches back to it (whatever the module
    # does). A module that does nothing is the baseline; ours must add nothing to it.
    baseline = world.homeserver("D", [{"module": "harness.baseline_module.OnNewEventOnly", "config": {}}])
    baseline.start()
    synapses, ours = _warnings_for_a_conversation(baseline), _warnings_for_a_conversation(world.a)
    report.note(f"- '{RESTARTED}' warnings for one room and five messages: {ours} with our module, {synapses} "
                f"with a module whose on_new_event does nothing (Synapse 1.67's own)")
    assert ours <= synapses


def test_neither_our_module_nor_the_gateway_logged_an_error(world, report):
    shim_errors = [line for line in world.a.log_lines() if " - ERROR - " in line and "matrix_policy_gateway" in line]
    gateway_errors = [line for line in world.gateway.log.read_text(errors="replace").splitlines() if " ERROR " in line]
    assert shim_errors == [] and gateway_errors == []


def test_every_callback_synapse_can_call_reached_the_gateway(world, report):
    expected = {callback.name for callback in ALL} - set(NOT_IN_SYNAPSE_1_67)
    assert expected - report.callbacks_seen(world.gateway.management_url) == set()
