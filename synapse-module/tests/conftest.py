import os
import sys

import pytest

# The package is tested from the source tree, exactly as pip would install it.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from matrix_policy_gateway_shim import PolicyGatewayModule  # noqa: E402
from matrix_policy_gateway_shim.callbacks import ALL  # noqa: E402

import fakes  # noqa: E402

EVERY_CALLBACK = [callback.name for callback in ALL]


@pytest.fixture
def api():
    """Synapse v1.157's ModuleApi, which has every category."""
    return fakes.FakeModuleApiV1_157()


@pytest.fixture
def background():
    processes = fakes.BackgroundProcesses()
    yield processes
    assert processes.escaped == [], "an exception escaped from background work"


@pytest.fixture
def gateway():
    """A scripted gateway with a chain for every callback (and one auth checker)."""
    return fakes.FakeGateway(EVERY_CALLBACK, [("m.login.password", ("password",))])


@pytest.fixture
def make_module(api, background, gateway):
    """Builds the module against the fake ModuleApi, fake Synapse types and the scripted gateway."""
    def make(config=None, *, reactor=None, client=None):
        settings = {"base_url": "http://gateway.test:8090", "token": "secret"}
        settings.update(config or {})
        return PolicyGatewayModule(PolicyGatewayModule.parse_config(settings), api,
                                   synapse=fakes.fake_synapse(background),
                                   client=client if client is not None else gateway, reactor=reactor)
    return make
