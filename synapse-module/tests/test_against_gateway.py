"""The module against a real, running gateway: the packaged jar, started by these tests.
Only Synapse is a stand-in (the fake ModuleApi and types); HTTP, JSON and the gateway's
chains are real."""

import logging
import time

import pytest
import pytest_twisted
from twisted.internet import defer

import gateway_process
from calls import MESSAGE, REQUESTER, STATE, InMemoryFile, invoke, sample_args
from fakes import (
    NOT_SPAM,
    PRESENCE_ALL_USERS,
    Codes,
    FakeModuleApiV1_157,
    FileInfo,
    MediaUploadLimit,
    RatelimitOverride,
    RegistrationBehaviour,
    SynapseError,
    UserPresenceState,
    fake_synapse,
)
from matrix_policy_gateway_shim import PolicyGatewayModule
from matrix_policy_gateway_shim.client import GatewayClient
from matrix_policy_gateway_shim.convert import to_json_bytes
from matrix_policy_gateway_shim.module import BATCH_BYTES

TOKEN = "shim-integration-token"

CONFIG = """
policy-gateway:
  server-name: example.com
  auth:
    token-file: TOKEN_FILE
  modules:
    # Each entry's `config:` is bound from this file alone (ModuleInstanceFactory.listOwnerBinder),
    # never mixed with the same-index entry of the jar's built-in application.yml.
    - module: test_password
      name: passwords
      config:
        login-type: m.login.password
        field: password
        users:
          bob: builder
    - module: test_faulty
      name: hanging
      config:
        callbacks: [check_can_deactivate_user]
        behaviour: hang
    - module: test_faulty
      name: broken
      config:
        callbacks: [user_may_publish_room]
        behaviour: throw
    - module: static
      name: policy
      config:
        error: Refused by policy
        results:
          check_event_for_spam: M_FORBIDDEN
          user_may_invite: M_LIMIT_EXCEEDED
          user_may_send_3pid_invite: NOT_SPAM
          user_may_create_room: NOT_SPAM
          user_may_create_room_alias: M_FORBIDDEN
          check_username_for_spam: true
          check_registration_for_spam: SHADOW_BAN
          check_media_file_for_spam: NOT_SPAM
          should_drop_federated_event: false
          check_login_for_spam: M_FORBIDDEN
          user_may_send_state_event: M_FORBIDDEN
          federated_user_may_invite: NOT_SPAM
          check_event_allowed: false
          on_create_room: ~
          check_threepid_can_be_invited: false
          check_visibility_can_be_modified: true
          on_new_event: ~
          check_can_shutdown_room: false
          on_profile_update: ~
          on_user_deactivation_status_changed: ~
          on_threepid_bind: ~
          on_add_user_third_party_identifier: ~
          on_remove_user_third_party_identifier: ~
          check_3pid_auth: "@carol:example.com"
          on_logged_out: ~
          get_username_for_registration: carol
          get_displayname_for_registration: ~
          is_3pid_allowed: false
          is_user_expired: true
          on_user_registration: ~
          get_interested_users: ALL
          on_account_data_updated: ~
          on_update: 250
          min_batch_size: 5
          add_field_to_unsigned: '{"org.example.policy": "checked"}'
    # The built-in modules of the media repository and ratelimit categories (Synapse 1.132+).
    - module: media_limits
      name: media
      config:
        groups:
          - name: staff
            users: ["@*-staff:example.com"]
            max-upload-size: 1GB
            upload-limits: []
            media-config:
              "[org.example.upload_policy]": staff
          - name: everyone
            users: ["*:example.com"]
            max-upload-size: 10MB
            upload-limits:
              - {max: 100MB, per: 1h}
              - {max: 1GB, per: 1d}
    - module: ratelimit_overrides
      name: invites
      config:
        rules:
          - name: trusted
            users: ["@alice:example.com"]
            limiters: [rc_invites.per_user, rc_invites.per_issuer]
            per-second: 0.5
            burst-count: 20
"""
# Left out, to prove they are not registered (or are answered here as companions):
# user_may_join_room, on_user_login, get_users_for_states, default_batch_size.

NOTIFICATIONS = ["on_new_event", "on_profile_update", "on_user_deactivation_status_changed", "on_threepid_bind",
                 "on_add_user_third_party_identifier", "on_remove_user_third_party_identifier", "on_logged_out",
                 "on_user_registration", "on_account_data_updated", "on_media_upload_limit_exceeded"]

# (callback, arguments, what Synapse gets), for every callback answered by the gateway.
ANSWERS = [
    # the gateway's message goes with the code where Synapse puts it in the client's error
    ("check_event_for_spam", (MESSAGE,), (Codes.FORBIDDEN, {"error": "Refused by policy"})),
    ("user_may_invite", sample_args("user_may_invite"), (Codes.LIMIT_EXCEEDED, {"error": "Refused by policy"})),
    ("user_may_send_3pid_invite", sample_args("user_may_send_3pid_invite"), NOT_SPAM),
    ("user_may_create_room", ("@alice:example.com",), NOT_SPAM),
    ("user_may_create_room_alias", sample_args("user_may_create_room_alias"), (Codes.FORBIDDEN, {"error": "Refused by policy"})),
    ("check_username_for_spam", sample_args("check_username_for_spam"), True),
    ("check_registration_for_spam", sample_args("check_registration_for_spam"), RegistrationBehaviour.SHADOW_BAN),
    ("should_drop_federated_event", (MESSAGE,), False),
    ("check_login_for_spam", sample_args("check_login_for_spam"), (Codes.FORBIDDEN, {"error": "Refused by policy"})),
    # Synapse takes a bare Codes member here, never a (Codes, dict) pair.
    ("user_may_send_state_event", sample_args("user_may_send_state_event"), Codes.FORBIDDEN),
    ("federated_user_may_invite", sample_args("federated_user_may_invite"), NOT_SPAM),
    ("check_event_allowed", (MESSAGE, STATE), (False, None)),
    ("check_threepid_can_be_invited", ("email", "bob@example.org", STATE), False),
    ("check_visibility_can_be_modified", ("!room:example.com", STATE, "public"), True),
    ("check_can_shutdown_room", ("@admin:example.com", "!room:example.com"), False),
    ("check_3pid_auth", ("email", "carol@example.com", "secret"), ("@carol:example.com", None)),
    ("get_username_for_registration", sample_args("get_username_for_registration"), "carol"),
    ("get_displayname_for_registration", sample_args("get_displayname_for_registration"), None),
    ("is_3pid_allowed", sample_args("is_3pid_allowed"), False),
    ("is_user_expired", ("@alice:example.com",), True),
    ("get_interested_users", ("@alice:example.com",), PRESENCE_ALL_USERS),
    ("get_users_for_states", sample_args("get_users_for_states"), {}),  # no module: answered here
    ("on_update", ("event_search", "main", False), 250),
    ("min_batch_size", ("event_search", "main"), 5),
    ("add_field_to_unsigned", (MESSAGE,), {"org.example.policy": "checked"}),
    ("get_media_config_for_user", ("@alice:example.com",), {"m.upload.size": 10485760}),
    ("is_user_allowed_to_upload_media_of_size", ("@alice:example.com", 10 * 1024 * 1024 + 1), False),
    ("get_media_upload_limits_for_user", ("@alice:example.com",),
     [MediaUploadLimit(max_bytes=104857600, time_period_ms=3600000),
      MediaUploadLimit(max_bytes=1073741824, time_period_ms=86400000)]),
    ("get_ratelimit_override_for_user", ("@alice:example.com", "rc_invites.per_user"),
     RatelimitOverride(per_second=0.5, burst_count=20)),
] + [(name, sample_args(name), None) for name in NOTIFICATIONS]


@pytest.fixture(scope="module")
def started_gateway(tmp_path_factory):
    """The one gateway process of these tests, stopped after them. Each test's gateway fixture gives it
    the configuration the test needs by a reload (``POST /actuator/reload``, as an admin would), about
    0.1 s of CPU where a start of its own takes 7 to 10 s: no test here is about a start, each about what
    the gateway answers under its configuration, and the counters they read are compared before and
    after, so what an earlier test left behind does not count."""
    started = gateway_process.start(CONFIG, tmp_path_factory.mktemp("gateway"), TOKEN)
    yield started
    started.stop()


def serving(gateway, config):
    """``gateway`` serving ``config``: reloaded to it unless it serves it already. A reload waits until the
    requests of the configuration before have returned (a hanging module's, at the gateway's 5 s
    deadline), so that the next configuration's tests begin on a quiet gateway, as on one just started."""
    if gateway.config_yaml != config:
        wait_until_quiet(gateway)
        reloaded = gateway.reload(config)
        assert "status" not in reloaded, reloaded
    return gateway


def wait_until_quiet(gateway, timeout=60):
    """Until no policy request is in flight: each has been answered and counted."""
    deadline = time.monotonic() + timeout
    while gateway.metric("policy_requests_in_flight") > 0:
        assert time.monotonic() < deadline, f"policy requests still in flight after {timeout} s"
        time.sleep(0.05)


@pytest.fixture
def gateway(started_gateway):
    """The gateway serving CONFIG."""
    return serving(started_gateway, CONFIG)


@pytest.fixture
def shim(started_gateway, background):
    """Builds the module as Synapse would, with the real HTTP client, against ``gateway=`` or else the
    gateway serving CONFIG."""
    made = []

    def make(**config):
        served = config.pop("gateway") if "gateway" in config else serving(started_gateway, CONFIG)
        settings = {"base_url": served.url, "token": TOKEN, "timeout": "10s"}
        settings.update(config)
        api = FakeModuleApiV1_157()
        made.append(PolicyGatewayModule(PolicyGatewayModule.parse_config(settings), api,
                                        synapse=fake_synapse(background)))
        return api

    yield make
    for module in made:
        # Waits until its connections are closed: one left open would hold the gateway's stop for
        # the whole of its shutdown drain (20 s).
        pytest_twisted.blockon(module.close())


@pytest.mark.parametrize("policy, expected", [("fail-closed", False), ("fail-open", True)])
@pytest_twisted.ensureDeferred
async def test_a_slow_gateway_times_out_into_the_failure_policy(policy, expected, shim):
    # First of CONFIG's tests: the gateway's side of these calls hangs until its 5 s deadline, which the
    # reload to the next configuration waits for (serving), meanwhile the tests below run.
    api = shim(timeout={"default": "10s", "check_can_deactivate_user": "300ms"}, on_failure=policy)
    assert await api.callback("check_can_deactivate_user")("@alice:example.com", False) is expected


def test_registers_exactly_the_callbacks_the_gateway_has_modules_for(shim):
    api = shim()
    assert api.registered == {
        "spam_checker": {"check_event_for_spam", "user_may_invite", "user_may_send_3pid_invite",
                         "user_may_create_room", "user_may_create_room_alias", "user_may_publish_room",
                         "check_username_for_spam", "check_registration_for_spam", "check_media_file_for_spam",
                         "should_drop_federated_event", "check_login_for_spam", "user_may_send_state_event",
                         "federated_user_may_invite"},
        "third_party_rules": {"check_event_allowed", "on_create_room", "check_threepid_can_be_invited",
                              "check_visibility_can_be_modified", "on_new_event", "check_can_shutdown_room",
                              "check_can_deactivate_user", "on_profile_update", "on_user_deactivation_status_changed",
                              "on_threepid_bind", "on_add_user_third_party_identifier",
                              "on_remove_user_third_party_identifier"},
        "password_auth_provider": {"auth_checkers", "check_3pid_auth", "on_logged_out",
                                   "get_username_for_registration", "get_displayname_for_registration",
                                   "is_3pid_allowed"},
        "account_validity": {"is_user_expired", "on_user_registration"},
        "presence_router": {"get_interested_users", "get_users_for_states"},
        "account_data": {"on_account_data_updated"},
        "background_update_controller": {"on_update", "min_batch_size"},
        "add_extra_fields_to_unsigned_client_event": {"add_field_to_unsigned_callback"},
        "media_repository": {"get_media_config_for_user", "is_user_allowed_to_upload_media_of_size",
                             "get_media_upload_limits_for_user", "on_media_upload_limit_exceeded"},
        "ratelimit": {"get_ratelimit_override_for_user"},
    }
    assert set(api.callback("auth_checkers")) == {("m.login.password", ("password",))}


@pytest.mark.parametrize("name, args, expected", ANSWERS, ids=[case[0] for case in ANSWERS])
@pytest_twisted.ensureDeferred
async def test_every_callback_gets_the_gateways_answer_as_synapse_expects_it(name, args, expected, shim, gateway,
                                                                            background, caplog):
    api = shim()
    before = gateway.counter(name, "notified") if name in NOTIFICATIONS else None
    with caplog.at_level(logging.WARNING):
        answer = await invoke(api, name, *args, background=background)
    assert answer == expected
    if expected is NOT_SPAM or expected is PRESENCE_ALL_USERS or isinstance(expected, (bool, Codes)):
        assert answer is expected
    if isinstance(expected, tuple) and isinstance(expected[0], Codes):
        assert answer[0] is expected[0]
    assert caplog.text == ""  # no failure, no fallback: the gateway understood the request
    if before is not None:
        assert gateway.counter(name, "notified") == before + 1


@pytest_twisted.ensureDeferred
async def test_a_media_file_hash_is_accepted(shim):
    api = shim()
    verdict = await api.callback("check_media_file_for_spam")(InMemoryFile(b"\x89PNG\r\n\x1a\n...."),
                                                              FileInfo(server_name=None, file_id="abcdef"))
    assert verdict is NOT_SPAM


@pytest_twisted.ensureDeferred
async def test_room_creation_goes_ahead_with_the_request_as_the_gateway_returns_it(shim):
    api = shim()
    request_content = {"preset": "private_chat", "initial_state": [], "name": "Plans"}
    assert await api.callback("on_create_room")(REQUESTER, request_content, True) is None
    assert request_content == {"preset": "private_chat", "initial_state": [], "name": "Plans"}


@pytest_twisted.ensureDeferred
async def test_auth_checkers_answer_through_the_gateway(shim):
    api = shim()
    check = api.auth_checker("m.login.password", ("password",))
    assert await check("bob", "m.login.password", {"password": "builder"}) == ("@bob:example.com", None)
    assert await check("bob", "m.login.password", {"password": "wrong"}) is None


@pytest_twisted.ensureDeferred
async def test_the_gateways_fail_closed_503_raises_synapse_error(shim):
    api = shim(on_failure="fail-open")
    with pytest.raises(SynapseError) as refused:
        await api.callback("user_may_publish_room")("@alice:example.com", "!room:example.com")
    assert (refused.value.code, refused.value.errcode) == (503, "M_UNKNOWN")
    assert refused.value.msg.startswith("A policy check failed")


@pytest_twisted.ensureDeferred
async def test_a_wrong_token_registers_everything_and_follows_the_policy(shim, caplog):
    api = shim(token="not-the-token", on_failure="fail-open")
    assert "user_may_join_room" in api.registered["spam_checker"]  # register_all: the gateway said nothing
    assert "HTTP 401" in caplog.text
    assert await api.callback("user_may_join_room")("@alice:example.com", "!room:example.com", False) is NOT_SPAM


@pytest_twisted.ensureDeferred
async def test_many_concurrent_calls_share_a_few_connections(shim, gateway):
    api = shim()
    user_may_invite = api.callback("user_may_invite")
    answers = await defer.gatherResults([
        defer.ensureDeferred(user_may_invite("@alice:example.com", f"@u{i}:example.com", "!room:example.com"))
        for i in range(50)])
    assert all(answer[0] is Codes.LIMIT_EXCEEDED for answer in answers)


# media_limits and ratelimit_overrides through the module, beyond the one answer each above.
MODULE_ANSWERS = [
    ("is_user_allowed_to_upload_media_of_size", ("@alice:example.com", 10 * 1024 * 1024), True),
    ("get_media_config_for_user", ("@bob-staff:example.com",),
     {"m.upload.size": 1024 ** 3, "org.example.upload_policy": "staff"}),
    ("get_media_upload_limits_for_user", ("@bob-staff:example.com",), []),  # no limit at all
    ("get_media_upload_limits_for_user", ("@carol:elsewhere.example",), None),  # homeserver.yaml's limits
    ("get_media_config_for_user", ("@carol:elsewhere.example",), None),
    ("get_ratelimit_override_for_user", ("@alice:example.com", "rc_invites.per_room"), None),
    ("get_ratelimit_override_for_user", ("@carol:example.com", "rc_invites.per_user"), None),
]


@pytest.mark.parametrize("name, args, expected", MODULE_ANSWERS,
                         ids=[f"{case[0]}-{case[1][0]}-{case[1][-1]}" for case in MODULE_ANSWERS])
@pytest_twisted.ensureDeferred
async def test_media_limits_and_ratelimit_overrides_answer_synapse_per_user(name, args, expected, shim, background,
                                                                            caplog):
    api = shim()
    with caplog.at_level(logging.WARNING):
        answer = await invoke(api, name, *args, background=background)
    assert answer == expected
    if isinstance(expected, list):
        assert type(answer) is list  # Synapse sorts it in place
    assert caplog.text == ""


@pytest_twisted.ensureDeferred
async def test_an_exceeded_upload_limit_is_counted_by_media_limits_group(shim, gateway, background):
    api = shim()
    before = gateway.metric("policy_module_media_limits_exceeded_total", group="everyone", module="media")
    await invoke(api, "on_media_upload_limit_exceeded", "@dave:example.com",
                 MediaUploadLimit(max_bytes=104857600, time_period_ms=3600000), 104000000, 1048576,
                 background=background)
    assert gateway.metric("policy_module_media_limits_exceeded_total", group="everyone", module="media") == before + 1


# get_users_for_states about everyone online, through the gateway's presence_router with its
# default max-body-size (1MB).
PRESENCE_CONFIG = """
policy-gateway:
  server-name: example.com
  auth:
    token-file: TOKEN_FILE
  modules:
    - module: presence_router
      name: presence-routes
      config:
        routes:
          - receivers: ["@auditor:example.com", "@support:example.com"]
            sources: ALL
          - receivers: ["@alice:example.com"]
            sources: ["@user7:example.com", "@user1234:example.com", "@bob:elsewhere.example"]
"""
RECEIVERS_OF_ALL = ("@auditor:example.com", "@support:example.com")
ALICES_SOURCES = ("@user7:example.com", "@user1234:example.com", "@bob:elsewhere.example")


# The presence gateway with a max-body-size below a quarter of the default batch's 256 KiB.
SMALL_PRESENCE_CONFIG = PRESENCE_CONFIG.replace("  modules:", "  max-body-size: 100KB\n  modules:")


@pytest.fixture
def presence_gateway(started_gateway):
    """The gateway serving PRESENCE_CONFIG."""
    return serving(started_gateway, PRESENCE_CONFIG)


@pytest.fixture
def replies(monkeypatch):
    """The (status, request bytes, answer bytes) of every request the real HTTP client posts."""
    seen = []
    post = GatewayClient.post

    async def recording(self, path, body, timeout, **kwargs):
        reply = await post(self, path, body, timeout, **kwargs)
        seen.append((reply.status, len(body), reply.size))
        return reply

    monkeypatch.setattr(GatewayClient, "post", recording)
    return seen


def online(number: int) -> UserPresenceState:
    return UserPresenceState(f"@user{number}:example.com", "online", 1700000000000 + number, 0, 0,
                             f"status of {number} " + "x" * 1000, True)


def routed(states):
    """What presence_router answers about ``states`` in one call, by its documented rules."""
    answer = {receiver: set(states) for receiver in RECEIVERS_OF_ALL}
    alices = {state for state in states if state.user_id in ALICES_SOURCES}
    if alices:
        answer["@alice:example.com"] = alices
    return answer


@pytest_twisted.ensureDeferred
async def test_a_small_get_users_for_states_is_answered_by_the_presence_routes(shim, presence_gateway, replies,
                                                                                caplog):
    api = shim(gateway=presence_gateway)
    states = [online(n) for n in (1, 7, 8)]
    with caplog.at_level(logging.WARNING):
        answer = await api.callback("get_users_for_states")(iter(states))
    assert answer == routed(states) == {"@auditor:example.com": set(states), "@support:example.com": set(states),
                                        "@alice:example.com": {states[1]}}
    assert [status for status, _, _ in replies] == [200]
    assert caplog.text == ""


@pytest_twisted.ensureDeferred
async def test_get_users_for_states_about_everyone_online_passes_max_body_size_in_batches_answered_as_one(
        shim, presence_gateway, replies, caplog):
    errors_before = presence_gateway.metric("policy_requests_errors_total")
    api = shim(gateway=presence_gateway)
    states = [online(n) for n in range(1500)]
    assert len(to_json_bytes({"state_updates": states})) > 1.5 * 1024 * 1024  # one body would get 413
    with caplog.at_level(logging.WARNING):
        answer = await api.callback("get_users_for_states")(iter(states))
    assert answer == routed(states)
    assert answer["@alice:example.com"] == {states[7], states[1234]}
    assert {id(state) for state in answer["@support:example.com"]} == {id(state) for state in states}
    assert len(replies) >= 6
    assert all(status == 200 and size <= BATCH_BYTES + 100 for status, size, _ in replies), replies
    # no 413 M_TOO_LARGE, nor any other
    assert presence_gateway.metric("policy_requests_errors_total") == errors_before
    assert caplog.text == ""  # no batch left out


@pytest.fixture
def small_presence_gateway(started_gateway):
    """The gateway serving SMALL_PRESENCE_CONFIG."""
    return serving(started_gateway, SMALL_PRESENCE_CONFIG)


@pytest_twisted.ensureDeferred
async def test_batches_keep_to_a_quarter_of_the_max_body_size_the_gateway_announces(
        shim, small_presence_gateway, replies, caplog):
    errors_before = small_presence_gateway.metric("policy_requests_errors_total")
    api = shim(gateway=small_presence_gateway)
    states = [online(n) for n in range(300)]  # about 330 KB: each default batch would get 413
    with caplog.at_level(logging.WARNING):
        answer = await api.callback("get_users_for_states")(iter(states))
    assert answer == routed(states)
    assert len(replies) >= 13
    assert all(status == 200 and size <= 25 * 1024 + 100 for status, size, _ in replies), replies
    assert small_presence_gateway.metric("policy_requests_errors_total") == errors_before
    assert caplog.text == ""


@pytest_twisted.ensureDeferred
async def test_batches_refused_after_a_reload_lowers_max_body_size_are_resent_under_the_new_limit(
        shim, presence_gateway, replies, caplog):
    api = shim(gateway=presence_gateway)  # reads the default 1MB: batches of 256 KiB
    reloaded = presence_gateway.reload(SMALL_PRESENCE_CONFIG)
    assert "status" not in reloaded, reloaded
    states = [online(n) for n in range(300)]  # about 330 KB: the first batch of 256 KiB gets 413
    with caplog.at_level(logging.WARNING):
        answer = await api.callback("get_users_for_states")(iter(states))
    assert answer == routed(states)
    assert replies[0][0] == 413
    assert len(replies) >= 14
    assert all(status == 200 and size <= 25 * 1024 + 100 for status, size, _ in replies[1:]), replies
    assert [record.getMessage() for record in caplog.records] == [
        "The policy gateway refused a batch of get_users_for_states as too large; it now announces max_body_size "
        f"{100 * 1024}: sending batches of at most {25 * 1024} bytes"]


@pytest_twisted.ensureDeferred
async def test_with_nobody_online_each_receiver_of_all_gets_an_empty_set(shim, presence_gateway, replies, caplog):
    api = shim(gateway=presence_gateway)
    with caplog.at_level(logging.WARNING):
        answer = await api.callback("get_users_for_states")(iter([]))
    assert answer == {"@auditor:example.com": set(), "@support:example.com": set()}
    assert [status for status, _, _ in replies] == [200]
    assert caplog.text == ""


# 40 receivers of ALL: the full form of the answer names each update 40 times, so the answer to a
# batch of the default 256 KiB would be 10 MiB, past the 8 MiB the shim reads; the compact form the
# shim asks for names each once.
MANY_RECEIVERS = tuple(f"@support{n}:example.com" for n in range(40))


MANY_RECEIVERS_CONFIG = PRESENCE_CONFIG.replace('["@auditor:example.com", "@support:example.com"]',
                                                "[" + ", ".join(f'"{receiver}"' for receiver in MANY_RECEIVERS) + "]")


@pytest.fixture
def many_receivers_gateway(started_gateway):
    """The gateway serving MANY_RECEIVERS_CONFIG."""
    return serving(started_gateway, MANY_RECEIVERS_CONFIG)


@pytest_twisted.ensureDeferred
async def test_with_40_receivers_of_all_every_receiver_gets_every_update_in_full_batches_with_compact_answers(
        shim, many_receivers_gateway, replies, caplog):
    # A call's one deadline is not what this proves: 7 batches of 256 KiB, each answered for 40 receivers
    # by a gateway just started (C1 only), used up the 10 s of the others on a loaded 2-core machine.
    api = shim(gateway=many_receivers_gateway, timeout="60s")
    states = [online(n) for n in range(1500)]  # about 1.6 MB: 66 MB of answer in the full form
    with caplog.at_level(logging.WARNING):
        answer = await api.callback("get_users_for_states")(iter(states))
    assert set(answer) == {*MANY_RECEIVERS, "@alice:example.com"}
    assert all(answer[receiver] == set(states) for receiver in MANY_RECEIVERS)
    assert answer["@alice:example.com"] == {state for state in states if state.user_id in ALICES_SOURCES}
    # batches of the gateway's bound, each answered with about its own size
    assert len(replies) == 7 and all(status == 200 and size <= BATCH_BYTES + 100 for status, size, _ in replies), replies
    assert all(answered <= size + 16 * 1024 for _, size, answered in replies), replies
    replies.clear()
    with caplog.at_level(logging.WARNING):  # the next call: the answers measured did not make batches smaller
        assert await api.callback("get_users_for_states")(iter(states)) == answer
    assert len(replies) == 7, replies
    assert caplog.text == ""
