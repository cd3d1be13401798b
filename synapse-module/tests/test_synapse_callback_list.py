"""The module knows exactly the callbacks of Synapse v1.157's module docs, each in its category."""

from pathlib import Path

from matrix_policy_gateway_shim.callbacks import ALL

SYNAPSE_CALLBACKS = Path(__file__).resolve().parents[2] / "src" / "test" / "resources" / "synapse-v1.157-callbacks.txt"


def synapse_v1_157_callbacks():
    """``(category, callback)`` pairs from the written-out list the gateway's tests read too."""
    lines = SYNAPSE_CALLBACKS.read_text().splitlines()
    return [tuple(line.split()) for line in lines if line and not line.startswith("#")]


def test_the_module_has_every_callback_of_synapse_v1_157_in_its_category_and_no_other():
    written = synapse_v1_157_callbacks()
    assert len(written) == len(set(written)) == 47
    assert sorted((callback.category, callback.name) for callback in ALL) == sorted(written)
