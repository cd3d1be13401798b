"""Only callbacks with a chain in the gateway are registered, once per category; an
unreachable gateway at startup is handled as configured."""

import ast
import inspect
import logging
import os
import tarfile
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import task

from calls import invoke, sample_args
from conftest import EVERY_CALLBACK
from fakes import NOT_SPAM, FakeGateway, FakeModuleApi, FakeModuleApiV1_157, SynapseError, module_api_from_source
from matrix_policy_gateway_shim.callbacks import BY_NAME, CATEGORIES
from matrix_policy_gateway_shim.client import Discovery, Reply
from matrix_policy_gateway_shim.failures import Unreachable

PASSWORD = ("m.login.password", ("password",))
PIN = ("org.example.pin", ("pin",))


def test_registers_only_the_callbacks_the_gateway_has_chains_for(make_module, api, gateway):
    gateway.discovery = Discovery(frozenset({"user_may_invite", "check_event_for_spam", "on_new_event",
                                             "is_user_expired"}), ())
    make_module()
    assert [(category, sorted(callbacks)) for category, callbacks in api.calls] == [
        ("spam_checker", ["check_event_for_spam", "user_may_invite"]),
        ("third_party_rules", ["on_new_event"]),
        ("account_validity", ["is_user_expired"]),
    ]


def test_every_category_is_registered_with_one_call(make_module, api):
    module = make_module()
    assert [category for category, _ in api.calls] == list(CATEGORIES)
    assert set(module.registered) == set(CATEGORIES)


def test_the_auth_checkers_the_gateway_reports_are_registered(make_module, api, gateway):
    gateway.discovery = Discovery(frozenset({"check_auth", "on_logged_out"}), (PASSWORD, PIN))
    make_module()
    assert api.calls == [("password_auth_provider", {"on_logged_out": api.callback("on_logged_out"),
                                                     "auth_checkers": api.callback("auth_checkers")})]
    assert set(api.callback("auth_checkers")) == {PASSWORD, PIN}


def test_categories_that_are_not_enabled_are_left_alone(make_module, api):
    make_module({"categories": ["spam_checker", "password_auth_provider"]})
    assert set(api.registered) == {"spam_checker", "password_auth_provider"}


@pytest_twisted.ensureDeferred
async def test_both_presence_router_callbacks_are_registered_and_the_one_without_modules_answers_locally(
        make_module, api, gateway):
    gateway.discovery = Discovery(frozenset({"get_interested_users"}), ())
    make_module()
    assert api.registered == {"presence_router": {"get_users_for_states", "get_interested_users"}}
    assert await invoke(api, "get_users_for_states", *sample_args("get_users_for_states")) == {}
    assert gateway.requests == []


@pytest_twisted.ensureDeferred
async def test_on_update_comes_with_any_background_update_callback(make_module, api, gateway):
    gateway.discovery = Discovery(frozenset({"min_batch_size"}), ())
    gateway.replies["/v1/background_update_controller/min_batch_size"] = Reply(200, {"result": 5})
    make_module()
    assert api.registered == {"background_update_controller": {"on_update", "min_batch_size"}}
    assert await invoke(api, "on_update", "event_search", "main", False) == 100
    assert await invoke(api, "min_batch_size", "event_search", "main") == 5
    assert [path for path, _, _ in gateway.requests] == ["/v1/background_update_controller/min_batch_size"]


def start_with_chains_for(api, names, background, caplog, auth_checkers=()):
    """Starts the module on ``api`` against a gateway with chains for ``names`` (and
    ``auth_checkers``); returns
    the INFO lines naming what this Synapse could not register."""
    from fakes import fake_synapse
    from matrix_policy_gateway_shim import PolicyGatewayModule

    with caplog.at_level(logging.INFO):
        PolicyGatewayModule(PolicyGatewayModule.parse_config({"base_url": "http://gateway.test"}), api,
                            synapse=fake_synapse(background), client=FakeGateway(names, auth_checkers))
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    return [record for record in caplog.records if "could not register" in record.getMessage()]


class OlderModuleApi(FakeModuleApi):
    """A Synapse from before check_login_for_spam, user_may_send_state_event and the extra unsigned fields."""

    def register_spam_checker_callbacks(self, *, check_event_for_spam=None, user_may_invite=None):
        self._record("spam_checker", dict(locals(), self=None))

    register_add_extra_fields_to_unsigned_client_event_callbacks = None


def test_callbacks_an_older_synapse_does_not_know_are_listed_in_one_info_line(background, caplog):
    api = OlderModuleApi()
    skipped = start_with_chains_for(api, {"user_may_invite", "check_login_for_spam", "user_may_send_state_event",
                                          "add_field_to_unsigned"}, background, caplog)
    assert api.registered == {"spam_checker": {"user_may_invite"}}
    assert [record.levelno for record in skipped] == [logging.INFO]
    assert skipped[0].getMessage().endswith(
        "could not register 3 callbacks (too old for them): spam_checker.check_login_for_spam, "
        "spam_checker.user_may_send_state_event, add_extra_fields_to_unsigned_client_event.add_field_to_unsigned")


MEDIA_AND_RATELIMIT = {
    "media_repository": {"get_media_config_for_user", "is_user_allowed_to_upload_media_of_size",
                         "get_media_upload_limits_for_user", "on_media_upload_limit_exceeded"},
    "ratelimit": {"get_ratelimit_override_for_user"},
}


class ModuleApiV1_132(FakeModuleApi):
    """Synapse 1.132 to 1.138: the media repository without the upload limits pair (1.139)."""

    def register_media_repository_callbacks(self, *, get_media_config_for_user=None,
                                            is_user_allowed_to_upload_media_of_size=None):
        self._record("media_repository", dict(locals(), self=None))

    def register_ratelimit_callbacks(self, *, get_ratelimit_override_for_user=None):
        self._record("ratelimit", dict(locals(), self=None))


def test_synapse_1_157_registers_the_media_repository_and_ratelimit_callbacks(background, caplog):
    api = FakeModuleApiV1_157()
    skipped = start_with_chains_for(api, set().union(*MEDIA_AND_RATELIMIT.values()), background, caplog)
    assert api.registered == MEDIA_AND_RATELIMIT
    assert skipped == []


def test_a_synapse_without_media_repository_and_ratelimit_names_them_in_the_one_info_line(background, caplog):
    api = FakeModuleApi()
    skipped = start_with_chains_for(api, EVERY_CALLBACK, background, caplog)
    assert not {"media_repository", "ratelimit"} & set(api.registered)
    assert [record.levelno for record in skipped] == [logging.INFO]
    assert skipped[0].getMessage().endswith(
        "could not register 5 callbacks (too old for them): media_repository.get_media_config_for_user, "
        "media_repository.get_media_upload_limits_for_user, media_repository.is_user_allowed_to_upload_media_of_size, "
        "media_repository.on_media_upload_limit_exceeded, ratelimit.get_ratelimit_override_for_user")


def test_synapse_1_132_registers_the_media_callbacks_it_has_and_names_the_1_139_pair(background, caplog):
    api = ModuleApiV1_132()
    skipped = start_with_chains_for(api, EVERY_CALLBACK, background, caplog)
    assert api.registered["media_repository"] == {"get_media_config_for_user",
                                                  "is_user_allowed_to_upload_media_of_size"}
    assert api.registered["ratelimit"] == {"get_ratelimit_override_for_user"}
    assert skipped[0].getMessage().endswith(
        "could not register 2 callbacks (too old for them): media_repository.get_media_upload_limits_for_user, "
        "media_repository.on_media_upload_limit_exceeded")


SYNAPSE_1_67 = "synapse-1.67.0-src.tar.gz"
REPO = Path(__file__).resolve().parents[2]


def synapse_1_67_source(path: str) -> str:
    """A file of Synapse 1.67's source, from the tarball the end-to-end suite runs
    (``SYNAPSE_TARBALLS``, or ``shared/synapse`` beside the repository or one of its parents)."""
    folders = [Path(os.environ["SYNAPSE_TARBALLS"])] if os.environ.get("SYNAPSE_TARBALLS") else [
        folder / "shared" / "synapse" for folder in REPO.parents]
    tarball = next((folder / SYNAPSE_1_67 for folder in folders if (folder / SYNAPSE_1_67).exists()), None)
    if tarball is None:
        pytest.skip(f"no {SYNAPSE_1_67} in {', '.join(map(str, folders))}: Synapse 1.67's ModuleApi cannot be read")
    with tarfile.open(tarball) as archive:
        return archive.extractfile(path).read().decode()


@pytest.fixture
def FakeModuleApiV1_67():
    """Synapse 1.67's ModuleApi: its ``register_*_callbacks`` signatures are read from its source."""
    return module_api_from_source(synapse_1_67_source("synapse/module_api/__init__.py"), "FakeModuleApiV1_67")


def not_in_synapse_1_67():
    """The callbacks the end-to-end suite knows Synapse 1.67 lacks (``NOT_IN_SYNAPSE_1_67`` in e2e/conftest.py)."""
    conftest = ast.parse((REPO / "e2e" / "conftest.py").read_text())
    return next(ast.literal_eval(node.value) for node in conftest.body if isinstance(node, ast.Assign)
                and [target.id for target in node.targets] == ["NOT_IN_SYNAPSE_1_67"])


def test_synapse_1_67_registers_every_callback_it_has_and_names_the_12_it_lacks_in_one_info_line(
        FakeModuleApiV1_67, background, caplog):
    api = FakeModuleApiV1_67()
    skipped = start_with_chains_for(api, EVERY_CALLBACK, background, caplog, [PASSWORD])
    lacking = not_in_synapse_1_67()
    assert len(lacking) == 12
    assert [record.levelno for record in skipped] == [logging.INFO]
    prefix, named = skipped[0].getMessage().split(": ", 1)
    assert prefix.endswith("could not register 12 callbacks (too old for them)")
    assert sorted(named.split(", ")) == sorted(f"{BY_NAME[name].category}.{name}" for name in lacking)
    registered = {"check_auth" if keyword == "auth_checkers" else keyword
                  for keywords in api.registered.values() for keyword in keywords}
    assert registered == set(EVERY_CALLBACK) - set(lacking)


def test_the_synapse_1_67_fake_refuses_a_keyword_synapse_1_67_does_not_have(FakeModuleApiV1_67):
    api = FakeModuleApiV1_67()
    with pytest.raises(TypeError, match="check_login_for_spam"):
        api.register_spam_checker_callbacks(check_login_for_spam=object())
    assert not hasattr(api, "register_add_extra_fields_to_unsigned_client_event_callbacks")
    assert not hasattr(api, "register_media_repository_callbacks")
    assert "on_user_login" not in inspect.signature(api.register_account_validity_callbacks).parameters
    assert inspect.signature(api.register_background_update_controller_callbacks).parameters[
        "on_update"].default is inspect.Parameter.empty


@pytest.fixture
def unreachable_gateway():
    gateway = FakeGateway()
    gateway.discovery = Unreachable("Connection was refused by other side")
    gateway.later_discovery = Unreachable("Connection was refused by other side")
    return gateway


@pytest_twisted.ensureDeferred
async def test_unreachable_at_startup_register_all_then_answer_locally_once_the_gateway_answers(
        make_module, api, unreachable_gateway):
    clock = task.Clock()
    make_module({"on_failure": "fail-open", "startup": {
        "retry_interval": "30s", "auth_checkers": [{"login_type": "m.login.password", "fields": ["password"]}]}},
        reactor=clock, client=unreachable_gateway)
    assert set(api.registered) == set(CATEGORIES)
    assert api.registered["spam_checker"] >= {"user_may_invite", "check_login_for_spam"}
    assert set(api.callback("auth_checkers")) == {PASSWORD}

    # Until the gateway answers discovery, every callback asks it (and follows its policy).
    unreachable_gateway.replies["/v1/spam_checker/user_may_invite"] = Unreachable("refused")
    assert await invoke(api, "user_may_invite", *sample_args("user_may_invite")) is NOT_SPAM
    clock.advance(30)  # still unreachable: asks again later
    unreachable_gateway.later_discovery = Discovery(frozenset({"user_may_join_room"}), (PASSWORD,))
    clock.advance(30)

    unreachable_gateway.requests.clear()
    assert await invoke(api, "user_may_invite", *sample_args("user_may_invite")) is NOT_SPAM
    assert unreachable_gateway.requests == []  # no chain: answered here
    await invoke(api, "user_may_join_room", *sample_args("user_may_join_room"))
    assert [path for path, _, _ in unreachable_gateway.requests] == ["/v1/spam_checker/user_may_join_room"]
    assert clock.getDelayedCalls() == []  # done asking


@pytest_twisted.ensureDeferred
async def test_unreachable_at_startup_register_all_fails_closed_until_the_gateway_answers(
        make_module, api, unreachable_gateway):
    make_module(reactor=task.Clock(), client=unreachable_gateway)
    unreachable_gateway.replies["/v1/spam_checker/user_may_invite"] = Unreachable("refused")
    with pytest.raises(SynapseError):
        await invoke(api, "user_may_invite", *sample_args("user_may_invite"))


def test_unreachable_at_startup_retry_registers_once_the_gateway_answers(make_module, api, unreachable_gateway):
    clock = task.Clock()
    make_module({"startup": {"if_unreachable": "retry", "retry_interval": "10s"}}, reactor=clock,
                client=unreachable_gateway)
    assert api.calls == []
    clock.advance(10)
    assert api.calls == []
    unreachable_gateway.later_discovery = Discovery(frozenset({"user_may_invite"}), (PIN,))
    clock.advance(10)
    assert api.registered == {"spam_checker": {"user_may_invite"}, "password_auth_provider": {"auth_checkers"}}
    assert clock.getDelayedCalls() == []


def test_an_unexpected_error_while_asking_again_is_logged_and_the_asking_goes_on(make_module, api, unreachable_gateway,
                                                                                  caplog):
    clock = task.Clock()
    make_module({"startup": {"if_unreachable": "retry", "retry_interval": "10s"}}, reactor=clock,
                client=unreachable_gateway)
    unreachable_gateway.later_discovery = TypeError("a shim bug")
    with caplog.at_level(logging.ERROR):
        clock.advance(10)
    assert "failed unexpectedly; asking again in 10.0s" in caplog.text
    unreachable_gateway.later_discovery = Discovery(frozenset({"user_may_invite"}), ())
    clock.advance(10)
    assert api.registered == {"spam_checker": {"user_may_invite"}}


def test_close_stops_asking_in_the_background(make_module, unreachable_gateway):
    clock = task.Clock()
    module = make_module(reactor=clock, client=unreachable_gateway)
    assert len(clock.getDelayedCalls()) == 1
    module.close()
    assert clock.getDelayedCalls() == [] and unreachable_gateway.closed


def test_a_gateway_with_no_chains_costs_synapse_nothing(make_module, api, gateway):
    gateway.discovery = Discovery(frozenset(), ())
    make_module()
    assert api.calls == []
