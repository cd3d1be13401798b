"""Only _synapse.load touches Synapse; here a stub ``synapse`` package stands in for it."""

import sys
import types

import pytest

import fakes
from matrix_policy_gateway_shim import _synapse
from matrix_policy_gateway_shim.config import parse


def make_modules(**module_api_extras):
    module_api = types.ModuleType("synapse.module_api")
    module_api.NOT_SPAM = fakes.NOT_SPAM
    module_api.PRESENCE_ALL_USERS = fakes.PRESENCE_ALL_USERS
    module_api.make_deferred_yieldable = lambda d: ("yieldable", d)
    for name, value in module_api_extras.items():
        setattr(module_api, name, value)
    errors = types.ModuleType("synapse.module_api.errors")
    errors.Codes, errors.SynapseError = fakes.Codes, fakes.SynapseError

    class ConfigError(Exception):
        pass

    errors.ConfigError = ConfigError
    spam_checker_api = types.ModuleType("synapse.spam_checker_api")
    spam_checker_api.RegistrationBehaviour = fakes.RegistrationBehaviour
    presence = types.ModuleType("synapse.api.presence")
    presence.UserPresenceState = fakes.UserPresenceState
    return {"synapse": types.ModuleType("synapse"), "synapse.api": types.ModuleType("synapse.api"),
            "synapse.module_api": module_api, "synapse.module_api.errors": errors,
            "synapse.spam_checker_api": spam_checker_api, "synapse.api.presence": presence}


@pytest.fixture
def stub_synapse(monkeypatch):
    def install(with_event_utils=True, **module_api_extras):
        modules = make_modules(**module_api_extras)
        if with_event_utils:
            utils = types.ModuleType("synapse.events.utils")
            utils.format_event_for_client_v2 = lambda d: {"formatted": True, **d}
            modules["synapse.events"] = types.ModuleType("synapse.events")
            modules["synapse.events.utils"] = utils
        else:
            monkeypatch.setitem(sys.modules, "synapse.events.utils", None)  # import fails
        for name, module in modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        return modules
    return install


def module_api(**methods):
    """A ModuleApi with the methods the shim takes from it, and ``methods``."""
    return types.SimpleNamespace(is_mine=lambda user_id: True, check_user_exists=fakes.check_user_exists, **methods)


def test_load_takes_synapses_own_objects(stub_synapse):
    stub_synapse(run_as_background_process="module level")
    api = module_api()
    loaded = _synapse.load(api)
    assert loaded.is_mine is api.is_mine and loaded.check_user_exists is api.check_user_exists
    assert loaded.NOT_SPAM is fakes.NOT_SPAM and loaded.PRESENCE_ALL_USERS is fakes.PRESENCE_ALL_USERS
    assert loaded.Codes is fakes.Codes and loaded.SynapseError is fakes.SynapseError
    assert loaded.RegistrationBehaviour is fakes.RegistrationBehaviour
    assert loaded.UserPresenceState is fakes.UserPresenceState
    assert loaded.format_event_for_client({"a": 1}) == {"formatted": True, "a": 1}
    assert loaded.make_deferred_yieldable("d") == ("yieldable", "d")
    assert loaded.run_in_background_process == "module level"


def test_load_takes_the_media_and_ratelimit_types_where_synapse_has_them(stub_synapse):
    stub_synapse(run_as_background_process="module level", MediaUploadLimit=fakes.MediaUploadLimit,
                 RatelimitOverride=fakes.RatelimitOverride)
    loaded = _synapse.load(api=module_api())
    assert loaded.MediaUploadLimit is fakes.MediaUploadLimit and loaded.RatelimitOverride is fakes.RatelimitOverride


def test_load_works_on_a_synapse_without_the_media_and_ratelimit_types(stub_synapse):
    stub_synapse(run_as_background_process="module level")  # Synapse before 1.132 (RatelimitOverride) and 1.139
    loaded = _synapse.load(api=module_api())
    assert loaded.MediaUploadLimit is None and loaded.RatelimitOverride is None


def test_load_prefers_the_module_apis_background_processes(stub_synapse):
    stub_synapse(run_as_background_process="module level")
    api = module_api(run_as_background_process="ModuleApi method")
    assert _synapse.load(api).run_in_background_process == "ModuleApi method"


def test_load_falls_back_to_its_own_event_formatting(stub_synapse):
    stub_synapse(with_event_utils=False, run_as_background_process="module level")
    formatted = _synapse.load(api=module_api()).format_event_for_client(
        {"type": "m.room.message", "hashes": {}, "signatures": {}, "prev_events": [], "auth_events": [],
         "depth": 3, "origin": "example.com", "content": {}})
    assert formatted == {"type": "m.room.message", "content": {}}


def test_configuration_errors_are_synapses_config_error_inside_synapse(stub_synapse):
    modules = stub_synapse()
    with pytest.raises(modules["synapse.module_api.errors"].ConfigError):
        parse({})


def test_without_synapse_configuration_errors_are_value_errors():
    with pytest.raises(ValueError):
        parse({})
