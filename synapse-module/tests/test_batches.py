"""get_users_for_states about everyone online, on a large server, goes to the gateway in batches
that each fit its max-body-size, and their answers come back to Synapse as one."""

import logging

import pytest_twisted
from twisted.internet import defer, task

from calls import invoke
from fakes import UserPresenceState
from matrix_policy_gateway_shim.callbacks import ALL, BY_NAME, FailurePolicy
from matrix_policy_gateway_shim.client import MAX_ANSWER_BYTES, Reply
from matrix_policy_gateway_shim.convert import to_json_bytes
from matrix_policy_gateway_shim.failures import AnswerTooLarge, Unreachable
from matrix_policy_gateway_shim.answers import UsersForStates
from matrix_policy_gateway_shim.module import ANSWER_BYTES, BATCH_BYTES, REREAD_INTERVAL, batch_bytes

PATH = BY_NAME["get_users_for_states"].path
SUPPORT = "@support:example.com"
"""Receives everyone's presence (a route of ALL sources)."""


def online(number: int, status_bytes: int = 1000) -> UserPresenceState:
    return UserPresenceState(f"@user{number}:example.com", "online", 1700000000000 + number, 0, 0,
                             "x" * status_bytes, True)


def everyone_to_support(gateway):
    """Answers each batch as the gateway's presence_router would with one ALL route to SUPPORT."""
    def reply() -> Reply:
        return Reply(200, {"result": {SUPPORT: gateway.requests[-1][1]["state_updates"]}})
    return reply


def sent_batches(gateway):
    return [body["state_updates"] for path, body, _ in gateway.requests if path == PATH]


def test_only_callbacks_without_a_failure_policy_are_batched():
    # A failed batch is left out of the answer: for a callback that can fail closed, that would be failing open.
    assert [c.name for c in ALL if c.batched is not None] == ["get_users_for_states"]
    assert all(c.failure is FailurePolicy.NO_OPINION for c in ALL if c.batched is not None)


@pytest_twisted.ensureDeferred
async def test_a_call_larger_than_the_bound_is_sent_in_bounded_batches_and_the_answers_merged(
        make_module, api, gateway):
    make_module()
    states = [online(n) for n in range(2000)]  # about 2.3 MB of JSON: over the gateway's default 1MB
    gateway.replies[PATH] = everyone_to_support(gateway)
    result = await invoke(api, "get_users_for_states", iter(states))
    batches = sent_batches(gateway)
    assert len(batches) >= 9
    assert all(len(to_json_bytes({"state_updates": batch})) <= BATCH_BYTES + 20 for batch in batches)
    assert [state for batch in batches for state in batch] == [state.as_dict() for state in states]  # in order, once
    assert set(result) == {SUPPORT}
    assert result[SUPPORT] == set(states)
    assert {id(state) for state in result[SUPPORT]} == {id(state) for state in states}  # Synapse's own objects


@pytest_twisted.ensureDeferred
async def test_a_call_within_the_bound_is_one_request_as_before(make_module, api, gateway):
    make_module()
    states = [online(n) for n in range(200)]  # about 230 KB
    gateway.replies[PATH] = everyone_to_support(gateway)
    result = await invoke(api, "get_users_for_states", iter(states))
    assert len(sent_batches(gateway)) == 1
    assert result == {SUPPORT: set(states)}


@pytest_twisted.ensureDeferred
async def test_each_users_states_are_the_union_of_every_batchs_answer(make_module, api, gateway):
    make_module()
    states = [online(n, status_bytes=100_000) for n in range(6)]  # two a batch
    answers = iter([
        {SUPPORT: [states[0].as_dict()], "@alice:example.com": [states[1].as_dict()]},
        {SUPPORT: [states[2].as_dict(), states[3].as_dict()]},
        {SUPPORT: [], "@alice:example.com": [states[5].as_dict()], "@bob:example.com": []},
    ])
    gateway.replies[PATH] = lambda: Reply(200, {"result": next(answers)})
    result = await invoke(api, "get_users_for_states", states)
    assert len(sent_batches(gateway)) == 3
    assert result == {SUPPORT: {states[0], states[2], states[3]}, "@alice:example.com": {states[1], states[5]},
                      "@bob:example.com": set()}


@pytest_twisted.ensureDeferred
async def test_an_update_larger_than_the_bound_goes_alone_and_whole(make_module, api, gateway):
    make_module()
    huge = online(1, status_bytes=BATCH_BYTES + 1000)
    states = [online(0), huge, online(2), online(3)]
    gateway.replies[PATH] = everyone_to_support(gateway)
    result = await invoke(api, "get_users_for_states", states)
    assert sent_batches(gateway) == [[states[0].as_dict()], [huge.as_dict()], [states[2].as_dict(), states[3].as_dict()]]
    assert result == {SUPPORT: set(states)}


@pytest_twisted.ensureDeferred
async def test_a_failed_batch_is_left_out_and_the_others_answers_kept_with_one_warning(
        make_module, api, gateway, caplog):
    make_module()
    states = [online(n, status_bytes=100_000) for n in range(6)]  # two a batch
    answer = everyone_to_support(gateway)
    gateway.replies[PATH] = lambda: Unreachable("Connection was refused") if len(gateway.requests) == 2 else answer()
    with caplog.at_level(logging.WARNING):
        result = await invoke(api, "get_users_for_states", states)
    assert len(sent_batches(gateway)) == 3
    assert result == {SUPPORT: {states[0], states[1], states[4], states[5]}}  # SUPPORT is there: no KeyError
    logged = [record.getMessage() for record in caplog.records]
    assert logged == ["Policy check get_users_for_states failed for 1 of its 3 batches (Connection was refused): "
                      "answering with the others' answers"]


@pytest_twisted.ensureDeferred
async def test_when_every_batch_fails_the_call_fails_as_one_call_does(make_module, api, gateway, caplog):
    make_module()
    gateway.replies[PATH] = Unreachable("Connection was refused")
    with caplog.at_level(logging.WARNING):
        result = await invoke(api, "get_users_for_states", [online(n, status_bytes=100_000) for n in range(6)])
    assert result == {}
    assert len(sent_batches(gateway)) == 3
    assert [record.getMessage() for record in caplog.records] == [
        "Policy check get_users_for_states failed (Connection was refused): answering as if no module decided"]


@pytest_twisted.ensureDeferred
async def test_the_batches_share_the_calls_timeout_and_none_is_sent_after_it(make_module, api, gateway):
    clock = task.Clock()
    make_module({"timeout": "5s"}, reactor=clock)
    states = [online(n, status_bytes=100_000) for n in range(8)]  # four batches
    answer = everyone_to_support(gateway)

    def slow_answer() -> Reply:
        clock.advance(2)
        return answer()

    gateway.replies[PATH] = slow_answer
    result = await invoke(api, "get_users_for_states", states)
    assert [timeout for path, _, timeout in gateway.requests if path == PATH] == [5, 3, 1]
    assert result == {SUPPORT: set(states[:6])}


@pytest_twisted.ensureDeferred
async def test_a_batch_written_with_json_escapes_for_a_lone_surrogate_still_keeps_to_the_bound(
        make_module, api, gateway):
    # One status holding half a surrogate pair writes its whole batch with JSON's \u escapes (UTF-8
    # cannot carry it): each é then takes 6 bytes instead of 2, and a batch measured in UTF-8 would
    # reach nearly three times the bound, past a max-body-size set below the default.
    make_module()
    states = [UserPresenceState(f"@user{n}:example.com", "online", 1, 0, 0, "é" * 500, True) for n in range(1500)]
    states[3] = UserPresenceState("@user3:example.com", "online", 1, 0, 0, "away \ud800", True)
    gateway.replies[PATH] = everyone_to_support(gateway)
    result = await invoke(api, "get_users_for_states", states)
    batches = sent_batches(gateway)
    assert all(len(to_json_bytes({"state_updates": batch})) <= BATCH_BYTES + 20 for batch in batches)
    assert [state for batch in batches for state in batch] == [state.as_dict() for state in states]
    assert result == {SUPPORT: set(states)}


def test_the_bound_is_a_quarter_of_the_announced_max_body_size_at_most_batch_bytes_and_batch_bytes_unannounced():
    assert batch_bytes(300 * 1024) == 75 * 1024
    assert batch_bytes(1024 * 1024) == BATCH_BYTES  # the default limit: as before
    assert batch_bytes(8 * 1024 * 1024) == BATCH_BYTES  # a larger limit: the answer stays small
    assert batch_bytes(None) == BATCH_BYTES  # a gateway too old to announce it
    assert batch_bytes(3) == 1  # each update alone, rather than a bound of nothing


@pytest_twisted.ensureDeferred
async def test_batches_keep_to_a_quarter_of_a_max_body_size_the_gateway_announces_below_the_default(
        make_module, api, gateway):
    gateway.discovery = gateway.discovery._replace(max_body_size=100 * 1024)
    make_module()
    states = [online(n) for n in range(200)]  # about 230 KB: one request under the default bound
    gateway.replies[PATH] = everyone_to_support(gateway)
    result = await invoke(api, "get_users_for_states", iter(states))
    batches = sent_batches(gateway)
    assert len(batches) >= 10
    assert all(len(to_json_bytes({"state_updates": batch})) <= 25 * 1024 + 20 for batch in batches)
    assert [state for batch in batches for state in batch] == [state.as_dict() for state in states]
    assert result == {SUPPORT: set(states)}


@pytest_twisted.ensureDeferred
async def test_a_max_body_size_learnt_once_the_gateway_answers_bounds_the_batches_from_then_on(
        make_module, api, gateway):
    clock = task.Clock()
    announced = gateway.discovery._replace(max_body_size=100 * 1024)
    gateway.discovery = Unreachable("Connection was refused")
    gateway.later_discovery = announced
    make_module({"startup": {"retry_interval": "10s"}}, reactor=clock)  # register_all: every callback, until it answers
    clock.advance(10)
    states = [online(n) for n in range(200)]
    gateway.replies[PATH] = everyone_to_support(gateway)
    result = await invoke(api, "get_users_for_states", iter(states))
    assert len(sent_batches(gateway)) >= 10
    assert result == {SUPPORT: set(states)}


def limited_to(gateway, limit: int, answer):
    """Answers like ``answer``, but 413 M_TOO_LARGE for a body over ``limit`` bytes, as a gateway
    whose max-body-size was lowered by a reload."""
    def reply() -> Reply:
        if len(to_json_bytes(gateway.requests[-1][1])) > limit:
            return Reply(413, {"errcode": "M_TOO_LARGE", "error": "The request body is too large"})
        return answer()
    return reply


@pytest_twisted.ensureDeferred
async def test_a_batch_refused_as_too_large_has_the_limit_read_again_and_the_rest_resent_under_it(
        make_module, api, gateway, caplog):
    make_module()  # the gateway announces no limit at startup: batches of BATCH_BYTES
    gateway.later_discovery = gateway.discovery._replace(max_body_size=100 * 1024)  # lowered by a reload since
    gateway.replies[PATH] = limited_to(gateway, 100 * 1024, everyone_to_support(gateway))
    states = [online(n) for n in range(1000)]  # about 1.1 MB: five batches under the old bound
    with caplog.at_level(logging.WARNING):
        result = await invoke(api, "get_users_for_states", iter(states))
    assert result == {SUPPORT: set(states)}  # nothing left out
    assert len(gateway.discoveries) == 1
    sent = sent_batches(gateway)
    assert len(to_json_bytes({"state_updates": sent[0]})) > 100 * 1024  # the one refused
    assert all(len(to_json_bytes({"state_updates": batch})) <= 25 * 1024 + 20 for batch in sent[1:])
    assert [state for batch in sent[1:] for state in batch] == [state.as_dict() for state in states]  # in order, once
    assert [record.getMessage() for record in caplog.records] == [
        "The policy gateway refused a batch of get_users_for_states as too large; it now announces max_body_size "
        f"{100 * 1024}: sending batches of at most {25 * 1024} bytes"]
    gateway.requests.clear()
    await invoke(api, "get_users_for_states", iter(states))  # the next call: under the new bound from the start
    assert all(len(to_json_bytes({"state_updates": batch})) <= 25 * 1024 + 20 for batch in sent_batches(gateway))
    assert len(gateway.discoveries) == 1


@pytest_twisted.ensureDeferred
async def test_the_limit_is_read_again_once_an_interval_however_many_batches_are_refused(make_module, api, gateway):
    clock = task.Clock()
    make_module(reactor=clock)
    gateway.later_discovery = gateway.discovery  # still no limit announced (a proxy in front refuses, say)
    gateway.replies[PATH] = limited_to(gateway, 10 * 1024, everyone_to_support(gateway))
    states = [online(n, status_bytes=100_000) for n in range(6)]  # three batches, each refused
    for _ in range(5):
        assert await invoke(api, "get_users_for_states", states) == {}
        clock.advance(REREAD_INTERVAL / 10)
    assert len(gateway.discoveries) == 1
    assert len(sent_batches(gateway)) == 15  # each batch once: nothing smaller to try
    clock.advance(REREAD_INTERVAL)
    await invoke(api, "get_users_for_states", states)
    assert len(gateway.discoveries) == 2


@pytest_twisted.ensureDeferred
async def test_reading_the_limit_again_and_the_resent_batches_keep_to_the_calls_timeout(make_module, api, gateway):
    clock = task.Clock()
    make_module({"timeout": "5s"}, reactor=clock)
    lowered = gateway.discovery._replace(max_body_size=150 * 1024)

    def slow_discovery():
        clock.advance(1)
        return lowered

    def slow(answer):
        def reply() -> Reply:
            clock.advance(1)
            return answer()
        return reply

    gateway.later_discovery = slow_discovery
    gateway.replies[PATH] = slow(limited_to(gateway, 150 * 1024, everyone_to_support(gateway)))
    states = [online(n, status_bytes=100_000) for n in range(8)]  # four batches of two; then of one
    result = await invoke(api, "get_users_for_states", states)
    assert gateway.discoveries == [4]  # what the refused first batch left of the 5 s
    assert [timeout for path, _, timeout in gateway.requests if path == PATH] == [5, 3, 2, 1]
    assert result == {SUPPORT: set(states[:3])}  # the others left unasked at the deadline
    assert clock.seconds() == 5


RECEIVERS_OF_ALL = [f"@support{n}:example.com" for n in range(40)]


def everyone_to_many(gateway, compact: bool = False):
    """Answers as the gateway's presence_router with one ALL route to the 40 RECEIVERS_OF_ALL, as the
    real client reads it (an answer over MAX_ANSWER_BYTES is not read): in the full form, as a gateway
    older than the compact form does whatever is asked; ``compact``, in the compact form the shim asks
    for, each update once and each receiver with the index of its set."""
    def reply() -> Reply:
        body = gateway.requests[-1][1]
        assert body["answer_form"] == "compact"
        states = body["state_updates"]
        answer = {"result": {"states": states, "sets": [list(range(len(states)))],
                             "users": {receiver: 0 for receiver in RECEIVERS_OF_ALL}} if compact
                  else {receiver: states for receiver in RECEIVERS_OF_ALL}}
        if len(to_json_bytes(answer)) > MAX_ANSWER_BYTES:
            return AnswerTooLarge(f"an answer of more than {MAX_ANSWER_BYTES} bytes")
        gateway.answered.append(len(to_json_bytes(answer)))
        return Reply(200, answer)
    gateway.answered = []
    return reply


@pytest_twisted.ensureDeferred
async def test_an_answer_too_large_to_read_has_its_batch_and_the_rest_resent_in_batches_whose_answers_fit(
        make_module, api, gateway, caplog):
    # 40 receivers of ALL: each batch of 256 KiB would be answered with 10 MiB, past the 8 MiB the shim reads
    make_module(reactor=task.Clock())  # time stands still: a loaded machine building these answers ran past the call's timeout
    states = [online(n) for n in range(1500)]  # about 1.6 MB
    gateway.replies[PATH] = everyone_to_many(gateway)
    with caplog.at_level(logging.WARNING):
        result = await invoke(api, "get_users_for_states", iter(states))
    assert result == {receiver: set(states) for receiver in RECEIVERS_OF_ALL}  # every receiver, every state
    sent = sent_batches(gateway)
    assert len(to_json_bytes({"state_updates": sent[0]})) > 200 * 1024  # the one whose answer was too large
    assert [state for batch in sent[1:] for state in batch] == [state.as_dict() for state in states]  # in order, once
    assert all(size <= ANSWER_BYTES for size in gateway.answered)
    [logged] = [record.getMessage() for record in caplog.records]
    prefix = (f"The policy gateway's answer to a batch of get_users_for_states passed {MAX_ANSWER_BYTES} bytes (it "
              "names each update once for each of its receivers): sending batches of at most ")
    assert logged.startswith(prefix) and logged.endswith(" bytes")
    assert abs(int(logged[len(prefix):-len(" bytes")]) - len(to_json_bytes(sent[0])) / 8) < 10  # an eighth


@pytest_twisted.ensureDeferred
async def test_compact_answers_for_40_receivers_keep_batches_at_the_gateways_bound_and_are_about_their_size(
        make_module, api, gateway, caplog):
    make_module(reactor=task.Clock())  # time stands still: a loaded machine building these answers ran past the call's timeout
    states = [online(n) for n in range(1500)]  # about 1.6 MB: 66 MB of answer in the full form
    gateway.replies[PATH] = everyone_to_many(gateway, compact=True)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):  # the second call under the ratio the first one's answers measured
            gateway.requests.clear()
            gateway.answered.clear()
            result = await invoke(api, "get_users_for_states", iter(states))
            assert result == {receiver: set(states) for receiver in RECEIVERS_OF_ALL}
            sent = sent_batches(gateway)
            assert len(sent) == 7 and all(len(to_json_bytes({"state_updates": batch})) > 200 * 1024 for batch in sent[:-1])
            assert all(size <= BATCH_BYTES + 16 * 1024 for size in gateway.answered)
    assert caplog.records == []


@pytest_twisted.ensureDeferred
async def test_a_compact_answer_naming_more_pairs_than_taken_has_its_batch_and_the_rest_resent_smaller(
        make_module, api, gateway, caplog, monkeypatch):
    # As 800 receivers of ALL against the million taken (a full batch of some 1,700 small updates names 1.4
    # million (receiver, update) pairs), at a fiftieth of the cost: the full form shrank its batches until
    # their answers fit, so must this
    monkeypatch.setattr(UsersForStates, "MOST_ROUTES", 20_000)
    make_module(reactor=task.Clock())  # time stands still: a loaded machine building these answers ran past the call's timeout
    states = [online(n, status_bytes=0) for n in range(2000)]
    gateway.replies[PATH] = everyone_to_many(gateway, compact=True)
    with caplog.at_level(logging.WARNING):
        for call in range(2):  # the second call under the bound the first one's answers measured
            gateway.requests.clear()
            result = await invoke(api, "get_users_for_states", iter(states))
            assert result == {receiver: set(states) for receiver in RECEIVERS_OF_ALL}
            sent = sent_batches(gateway)
            assert all(len(batch) * len(RECEIVERS_OF_ALL) <= 20_000 for batch in sent[call == 0:])  # none refused again
            assert [state for batch in sent[call == 0:] for state in batch] == [state.as_dict() for state in states]
    [logged] = [record.getMessage() for record in caplog.records]
    assert logged.startswith("The policy gateway's answer to a batch of get_users_for_states named ")


@pytest_twisted.ensureDeferred
async def test_batches_are_kept_to_what_the_last_answer_counted_so_that_their_answers_stay_under_answer_bytes(
        make_module, api, gateway, caplog):
    make_module()
    states = [online(n) for n in range(1500)]
    gateway.replies[PATH] = everyone_to_many(gateway)
    await invoke(api, "get_users_for_states", iter(states[:10]))  # a small call: its answer counts 40 receivers
    gateway.requests.clear()
    with caplog.at_level(logging.WARNING):
        result = await invoke(api, "get_users_for_states", iter(states))
    assert result == {receiver: set(states) for receiver in RECEIVERS_OF_ALL}
    assert all(len(to_json_bytes({"state_updates": batch})) <= ANSWER_BYTES // 40 + 20
               for batch in sent_batches(gateway))
    assert all(size <= ANSWER_BYTES + 40 * 100 for size in gateway.answered)
    assert caplog.records == []  # no answer too large: nothing to warn of


@pytest_twisted.ensureDeferred
async def test_a_single_update_whose_answer_is_too_large_fails_alone_and_is_not_sent_again(
        make_module, api, gateway, caplog):
    make_module()
    huge = online(1, status_bytes=300 * 1024)  # 40 copies: 12 MB
    states = [online(0), huge, online(2)]
    gateway.replies[PATH] = everyone_to_many(gateway)
    with caplog.at_level(logging.WARNING):
        result = await invoke(api, "get_users_for_states", states)
    assert result == {receiver: {states[0], states[2]} for receiver in RECEIVERS_OF_ALL}
    assert sent_batches(gateway) == [[states[0].as_dict()], [huge.as_dict()], [states[2].as_dict()]]
    assert [record.getMessage() for record in caplog.records][-1] == (
        "Policy check get_users_for_states failed for 1 of its 3 batches (an answer of more than "
        f"{MAX_ANSWER_BYTES} bytes): answering with the others' answers")


@pytest_twisted.ensureDeferred
async def test_a_call_refused_while_another_reads_the_limit_again_waits_for_that_reading_and_resends_under_it(
        make_module, api, gateway, caplog):
    make_module()  # batches of BATCH_BYTES
    reading = defer.Deferred()
    gateway.later_discovery = lambda: reading  # lowered by a reload; the reading takes a while
    gateway.replies[PATH] = limited_to(gateway, 100 * 1024, everyone_to_support(gateway))
    first = [online(n) for n in range(300)]  # about 330 KB each: two batches under the old bound
    second = [online(n) for n in range(300, 600)]
    with caplog.at_level(logging.WARNING):
        one = defer.ensureDeferred(invoke(api, "get_users_for_states", first))
        other = defer.ensureDeferred(invoke(api, "get_users_for_states", second))  # refused while the first reads
        assert len(gateway.discoveries) == 1 and not one.called and not other.called
        reading.callback(gateway.discovery._replace(max_body_size=100 * 1024))
        results = await defer.gatherResults([one, other])
    assert results == [{SUPPORT: set(first)}, {SUPPORT: set(second)}]  # nothing left out of either
    assert len(gateway.discoveries) == 1
    assert [record.getMessage() for record in caplog.records] == [
        "The policy gateway refused a batch of get_users_for_states as too large; it now announces max_body_size "
        f"{100 * 1024}: sending batches of at most {25 * 1024} bytes"]
