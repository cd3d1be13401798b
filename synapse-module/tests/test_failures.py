"""Timeouts, connection errors and unexpected replies follow each callback's failure policy;
notifications never hold Synapse up."""

import logging

import pytest
import pytest_twisted
from twisted.internet import defer, task

from calls import invoke, sample_args
from fakes import NOT_SPAM, Codes, RegistrationBehaviour, SynapseError, reactor_turn
from matrix_policy_gateway_shim.callbacks import ALL, BY_NAME, FailurePolicy
from matrix_policy_gateway_shim.client import Reply
from matrix_policy_gateway_shim.failures import TimedOut, Unreachable

CONFIGURABLE = [c.name for c in ALL if c.failure is FailurePolicy.CONFIGURABLE]
NO_OPINION = [c.name for c in ALL if c.failure is FailurePolicy.NO_OPINION]
NOTIFICATIONS = [c.name for c in ALL if c.failure is FailurePolicy.NOTIFICATION]

# What a callback answers when it fails open: the answer of a chain where no module decides.
FAIL_OPEN_ANSWER = {
    "check_event_for_spam": NOT_SPAM, "user_may_join_room": NOT_SPAM, "user_may_invite": NOT_SPAM,
    "user_may_send_3pid_invite": NOT_SPAM, "user_may_create_room": NOT_SPAM,
    "user_may_create_room_alias": NOT_SPAM, "user_may_publish_room": NOT_SPAM,
    "check_media_file_for_spam": NOT_SPAM, "check_login_for_spam": NOT_SPAM,
    "user_may_send_state_event": NOT_SPAM, "federated_user_may_invite": NOT_SPAM,
    "check_username_for_spam": False, "should_drop_federated_event": False,
    "check_registration_for_spam": RegistrationBehaviour.ALLOW, "check_event_allowed": (True, None),
    "on_create_room": None, "check_threepid_can_be_invited": True, "check_visibility_can_be_modified": True,
    "check_can_shutdown_room": True, "check_can_deactivate_user": True, "is_3pid_allowed": True,
    "is_user_expired": None, "is_user_allowed_to_upload_media_of_size": True,
}
# Failing closed refuses. Where Synapse would swallow an exception (and go ahead), or where a
# refusal leaves nothing behind, the refusing answer; elsewhere SynapseError(503).
FAIL_CLOSED_ANSWER = {
    "check_username_for_spam": True, "check_threepid_can_be_invited": False,
    "check_visibility_can_be_modified": False, "check_can_shutdown_room": False,
    "check_can_deactivate_user": False, "is_3pid_allowed": False,
}
NO_OPINION_ANSWER = {
    "check_auth": None, "check_3pid_auth": None, "get_users_for_states": {}, "get_interested_users": set(),
    "on_update": 100, "default_batch_size": 100, "min_batch_size": 1, "add_field_to_unsigned": {},
    # Synapse answers 500 to the registering user for any exception from these two.
    "get_username_for_registration": None, "get_displayname_for_registration": None,
    # Tuning only: None keeps homeserver.yaml's media config, upload limits and rate limits.
    "get_media_config_for_user": None, "get_media_upload_limits_for_user": None,
    "get_ratelimit_override_for_user": None,
}
FAILURES = {
    "timeout": TimedOut("no answer in time"),
    "connection refused": Unreachable("Connection was refused by other side"),
    "wrong token": Reply(401, None),
    "not found": Reply(404, {"errcode": "M_UNRECOGNIZED", "error": "Unknown callback"}),
    "wrong result type": Reply(200, {"result": {"unexpected": "shape"}}),
    # Only 200, a 403 or 503 Matrix error and 413 are the gateway's: anything else, from it or a proxy, is a failure.
    "not json": Reply(200, None),
    "no content": Reply(204, None),
    "redirect": Reply(302, None),
    "plain text refusal": Reply(403, None),  # the gateway's own, to a caller that is not on its machine
    "rate limited": Reply(429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1000}),
    "server error": Reply(500, {"errcode": "M_UNKNOWN", "error": "boom"}),
    "a proxy's 503": Reply(503, None),
    "the gateway too busy": Reply(503, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests are being answered at once"}),
}


def test_the_tables_cover_every_callback():
    assert set(FAIL_OPEN_ANSWER) == set(CONFIGURABLE)
    assert set(NO_OPINION_ANSWER) == set(NO_OPINION)
    assert set(CONFIGURABLE) | set(NO_OPINION) | set(NOTIFICATIONS) == set(BY_NAME)


def fail(gateway, name, failure):
    gateway.replies[BY_NAME[name].path] = failure


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
@pytest.mark.parametrize("name", CONFIGURABLE)
@pytest_twisted.ensureDeferred
async def test_failing_open_answers_as_if_no_module_decided(name, failure, make_module, api, gateway):
    make_module({"on_failure": "fail-open"})
    fail(gateway, name, FAILURES[failure])
    answer = await invoke(api, name, *sample_args(name))
    assert answer == FAIL_OPEN_ANSWER[name]
    if FAIL_OPEN_ANSWER[name] is NOT_SPAM:
        assert answer is NOT_SPAM


@pytest.mark.parametrize("name", CONFIGURABLE)
@pytest_twisted.ensureDeferred
async def test_failing_closed_refuses(name, make_module, api, gateway):
    make_module({"on_failure": {"is_user_expired": "fail-closed"}})  # fail-closed is the default, as in the gateway
    fail(gateway, name, TimedOut("no answer in time"))
    if name in FAIL_CLOSED_ANSWER:
        assert await invoke(api, name, *sample_args(name)) is FAIL_CLOSED_ANSWER[name]
    else:
        with pytest.raises(SynapseError) as refused:
            await invoke(api, name, *sample_args(name))
        assert (refused.value.code, refused.value.errcode) == (503, Codes.UNKNOWN)


@pytest.mark.parametrize("name", ["on_create_room", "check_event_allowed", "user_may_create_room"])
@pytest_twisted.ensureDeferred
async def test_a_call_too_large_for_the_gateway_fails_closed_as_too_large_not_as_try_again_later(name, make_module,
                                                                                                 api, gateway):
    # A client's createRoom body (on_create_room), or a room's state (check_event_allowed), over the
    # gateway's max-body-size: asked again, the gateway refuses it again, so a 503 would have the
    # client retry what can never pass.
    make_module({"on_failure": {"default": "fail-closed", "check_event_allowed": "fail-closed"}})
    fail(gateway, name, Reply(413, {"errcode": "M_TOO_LARGE", "error": "Request body too large"}))
    with pytest.raises(SynapseError) as refused:
        await invoke(api, name, *sample_args(name))
    assert (refused.value.code, refused.value.errcode) == (413, Codes.TOO_LARGE)
    assert "try again" not in refused.value.msg


@pytest.mark.parametrize("topic_bytes, message, logged", [
    (5000, "Too large for this server's policy check", "over the gateway's max_body_size of 4096"),
    # a proxy in front of the gateway with a smaller limit than the gateway's: the request is no larger
    # than the gateway takes, so "too large for the policy check" would be untrue
    (10, "Refused as too large before this server's policy check could read it",
     "within the gateway's max_body_size of 4096: a proxy in front of the gateway"),
])
@pytest_twisted.ensureDeferred
async def test_a_413_tells_the_client_too_large_for_the_policy_check_only_for_a_request_over_the_gateways_limit(
        topic_bytes, message, logged, make_module, api, gateway, caplog):
    gateway.discovery = gateway.discovery._replace(max_body_size=4096)
    make_module({"on_failure": "fail-closed"})
    fail(gateway, "on_create_room", Reply(413, {"errcode": "M_TOO_LARGE", "error": "Request body too large"}))
    requester, _, is_admin = sample_args("on_create_room")
    with pytest.raises(SynapseError) as refused:
        await invoke(api, "on_create_room", requester, {"topic": "x" * topic_bytes}, is_admin)
    assert (refused.value.code, refused.value.msg, refused.value.errcode) == (413, message, Codes.TOO_LARGE)
    [warning] = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert logged in warning


@pytest_twisted.ensureDeferred
async def test_a_call_too_large_for_the_gateway_failing_open_goes_ahead(make_module, api, gateway):
    make_module({"on_failure": "fail-open"})
    fail(gateway, "on_create_room", Reply(413, {"errcode": "M_TOO_LARGE", "error": "Request body too large"}))
    assert await invoke(api, "on_create_room", *sample_args("on_create_room")) is None


@pytest.mark.parametrize("on_failure", [None, "fail-closed", {"default": "fail-closed"}])
@pytest_twisted.ensureDeferred
async def test_a_failed_expiry_check_locks_nobody_out_unless_it_is_named_fail_closed(on_failure, make_module, api,
                                                                                     gateway):
    # asked on every authenticated request: a gateway not up yet must not fail them all
    make_module({} if on_failure is None else {"on_failure": on_failure})
    fail(gateway, "is_user_expired", Unreachable("refused"))
    fail(gateway, "user_may_invite", Unreachable("refused"))
    assert await invoke(api, "is_user_expired", *sample_args("is_user_expired")) is None
    with pytest.raises(SynapseError):
        await invoke(api, "user_may_invite", *sample_args("user_may_invite"))


@pytest_twisted.ensureDeferred
async def test_a_gateway_that_stays_down_is_logged_once_a_minute_saying_how_many_failures_went_unlogged(
        make_module, api, gateway, caplog):
    clock = task.Clock()
    make_module({"on_failure": "fail-open"}, reactor=clock)
    fail(gateway, "user_may_invite", Unreachable("Connection was refused by other side"))
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert await invoke(api, "user_may_invite", *sample_args("user_may_invite")) is NOT_SPAM
        clock.advance(61)
        assert await invoke(api, "user_may_invite", *sample_args("user_may_invite")) is NOT_SPAM
    logged = [record.getMessage() for record in caplog.records if "user_may_invite" in record.getMessage()]
    assert len(logged) == 2, logged
    assert logged[0] == ("Policy check user_may_invite failed (Connection was refused by other side):"
                         " answering as if no module decided")
    assert logged[1].endswith("answering as if no module decided (2 more like it in the last 61 s not logged)")


@pytest_twisted.ensureDeferred
async def test_the_policy_is_per_callback(make_module, api, gateway):
    make_module({"on_failure": {"default": "fail-open", "user_may_invite": "fail-closed"}})
    fail(gateway, "user_may_invite", Unreachable("refused"))
    fail(gateway, "user_may_join_room", Unreachable("refused"))
    assert await invoke(api, "user_may_join_room", *sample_args("user_may_join_room")) is NOT_SPAM
    with pytest.raises(SynapseError):
        await invoke(api, "user_may_invite", *sample_args("user_may_invite"))


@pytest_twisted.ensureDeferred
async def test_the_gateways_own_fail_closed_503_wins_over_fail_open(make_module, api, gateway):
    make_module({"on_failure": "fail-open"})
    fail(gateway, "user_may_invite", Reply(503, {"errcode": "M_UNKNOWN", "error": "A policy check failed"}))
    fail(gateway, "check_can_deactivate_user", Reply(503, {"errcode": "M_UNKNOWN", "error": "A policy check failed"}))
    with pytest.raises(SynapseError) as refused:
        await invoke(api, "user_may_invite", *sample_args("user_may_invite"))
    assert (refused.value.code, refused.value.msg, refused.value.errcode) == (503, "A policy check failed", "M_UNKNOWN")
    assert await invoke(api, "check_can_deactivate_user", "@alice:example.com", False) is False


@pytest_twisted.ensureDeferred
async def test_the_gateway_too_busy_to_hold_a_request_follows_the_callbacks_own_policy(make_module, api, gateway, caplog):
    make_module({"on_failure": {"default": "fail-open", "user_may_join_room": "fail-closed"}})
    busy = Reply(503, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests are being answered at once"})
    fail(gateway, "user_may_invite", busy)
    fail(gateway, "user_may_join_room", busy)
    assert await invoke(api, "user_may_invite", *sample_args("user_may_invite")) is NOT_SPAM
    with pytest.raises(SynapseError) as refused:
        await invoke(api, "user_may_join_room", *sample_args("user_may_join_room"))
    assert (refused.value.code, refused.value.errcode) == (503, Codes.UNKNOWN)
    assert "got HTTP 503 'M_LIMIT_EXCEEDED'" in caplog.text


@pytest.mark.parametrize("name", NO_OPINION)
@pytest_twisted.ensureDeferred
async def test_callbacks_without_a_refusal_answer_their_default_on_any_failure(name, make_module, api, gateway):
    make_module()  # fail-closed everywhere it applies
    fail(gateway, name, Reply(503, {"errcode": "M_UNKNOWN", "error": "A policy check failed"}))
    assert await invoke(api, name, *sample_args(name)) == NO_OPINION_ANSWER[name]


@pytest_twisted.ensureDeferred
async def test_arguments_that_cannot_be_written_follow_the_policy(make_module, api, gateway, caplog):
    make_module({"on_failure": "fail-open"})
    answer = await api.callback("on_create_room")(object(), {"preset": "private_chat"}, False)
    assert answer is None and gateway.requests == []
    assert "Cannot write the arguments of on_create_room" in caplog.text


@pytest_twisted.ensureDeferred
async def test_an_argument_a_newer_synapse_adds_follows_the_policy_instead_of_failing_the_request(
        make_module, api, gateway, caplog):
    make_module({"on_failure": {"default": "fail-open", "user_may_join_room": "fail-closed"}})
    newer = "an argument this shim does not know"
    assert await api.callback("user_may_invite")(*sample_args("user_may_invite"), newer) is NOT_SPAM
    with pytest.raises(SynapseError) as refused:
        await api.callback("user_may_join_room")(*sample_args("user_may_join_room"), extra=newer)
    assert refused.value.code == 503
    await api.callback("on_new_event")(*sample_args("on_new_event"), newer)  # a notification: not sent, nothing raised
    assert gateway.requests == []
    assert "Synapse passed user_may_invite arguments this shim does not know" in caplog.text
    assert "Notification on_new_event not sent" in caplog.text


@pytest.mark.parametrize("name", NOTIFICATIONS)
@pytest_twisted.ensureDeferred
async def test_notifications_never_wait_for_the_gateway(name, make_module, api, gateway, background):
    make_module()
    hanging = defer.Deferred()
    fail(gateway, name, hanging)
    await api.callback(name)(*sample_args(name))  # returns although the gateway has not answered
    assert background.started == []  # started on the reactor's next turn, outside Synapse's log context
    await reactor_turn()
    assert background.started == [f"policy_gateway.{name}"]
    assert len(gateway.requests) == 1
    hanging.callback(Reply(200, {"result": None}))
    await defer.DeferredList(background.deferreds)


@pytest_twisted.ensureDeferred
async def test_a_failed_notification_is_logged_not_raised(make_module, api, gateway, background, caplog):
    make_module()
    fail(gateway, "on_new_event", Unreachable("Connection was refused by other side"))
    with caplog.at_level(logging.WARNING):
        await api.callback("on_new_event")(*sample_args("on_new_event"))
        await reactor_turn()
        results = await defer.DeferredList(background.deferreds)
    assert all(ok for ok, _ in results)
    assert "Notification on_new_event did not reach the policy gateway" in caplog.text


@pytest_twisted.ensureDeferred
async def test_notifications_beyond_the_limit_are_dropped_not_queued(make_module, api, gateway, background, caplog):
    make_module({"max_pending_notifications": 2})
    hanging = []
    fail(gateway, "on_user_registration", lambda: hanging.append(defer.Deferred()) or hanging[-1])
    for user in ("@a:example.com", "@b:example.com", "@c:example.com"):
        await api.callback("on_user_registration")(user)
    await reactor_turn()
    assert len(gateway.requests) == 2
    assert "dropping on_user_registration" in caplog.text
    for answer in hanging:
        answer.callback(Reply(200, {"result": None}))
    await defer.DeferredList(background.deferreds)
    await api.callback("on_user_registration")("@d:example.com")
    await reactor_turn()
    assert len(gateway.requests) == 3
