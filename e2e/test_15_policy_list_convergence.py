"""Differential, randomized: does the gateway's rule set converge to the policy rooms' state under churn?

A moderator edits two policy rooms on a real Synapse in bursts: a seeded random sequence of a few
hundred rule events (users, rooms and servers, literal IDs and globs, under the spec's
``m.policy.rule.*`` and the older ``m.room.rule.*`` and ``org.matrix.mjolnir.rule.*`` types; bans,
takedowns, Meowlnir unbans and recommendations the gateway does not know; rules replaced at the same
state key, emptied, redacted, and older superseded events redacted), while the gateway restarts once
(starting under the burst), the bot is kicked from a room, the gateway is reloaded with a source's
setting changed, and its connection to the homeserver is cut once (a proxy between them resets every
connection and refuses new ones for 130 events). After each burst the test reads each room's state as Synapse
returns it (``GET /rooms/{roomId}/state``), computes every probe's verdict from it by
docs/modules/policy-list.md (one rule per kind and state key, the newest type's event deciding even
when empty or redacted; globs ``*`` and ``?``; the first source with a rule decides, a user's own
rules before their server's, an allow before a ban), and waits until the gateway's callbacks answer
the same for every probe, within CATCH_UP seconds. Every mismatch left then fails the test, with the
gateway's own explanation (``/actuator/policylists/match``).

``POLICY_CONVERGENCE_SEED`` replays a run (the seed is in the failure message and the report);
``POLICY_CONVERGENCE_OPERATIONS`` sets the number of operations (360)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import socket
import struct
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

import pytest

import gateway_process
from conftest import TOKEN, gateway_yaml
from harness import synapse as homeservers
from harness.client import Homeserver, User, q

SEED = int(os.environ.get("POLICY_CONVERGENCE_SEED") or random.SystemRandom().randrange(1 << 32))
OPERATIONS = int(os.environ.get("POLICY_CONVERGENCE_OPERATIONS") or 360)
DOWN, CUT = 20, 130  # operations while the gateway is stopped, and while its connection is cut
# Seconds from a burst's last event (or the connection's return) until every probe must be answered
# as the rooms' state says: a rule applies about 0.2 s after the homeserver has it, a redaction about
# 0.5 s (docs/modules/policy-list.md); after a cut, the bot's retry pause (at most RETRY_MAX here) comes first.
CATCH_UP = 10.0
RETRY_MAX = 1.0
FOLD_AFTER = 10.0  # a policy room's changes are compiled whole once it has been quiet this long

KINDS = ("user", "room", "server")
# Newest first: where a room holds one kind and state key under several types, the first present decides.
FAMILIES = ("m.policy.rule", "m.room.rule", "org.matrix.mjolnir.rule")
BAN, ALLOW = "ban", "allow"
RECOMMENDATIONS = {"m.ban": BAN, "org.matrix.mjolnir.ban": BAN, "m.takedown": BAN,
                   "org.matrix.msc4204.takedown": BAN, "fi.mau.meowlnir.unban": ALLOW}
UNKNOWN_RECOMMENDATIONS = ("org.example.unknown", "org.matrix.mjolnir.allow", "m.allow", "M.BAN")

SERVERS = [f"s{n}.example" for n in range(5)] + ["t1.example", "t22.example"]
USERS = [f"@u{n}:{server}" for n in range(10) for server in SERVERS[:5]] + \
        [f"@u{n}:{server}" for n in range(2) for server in SERVERS[5:]]
ROOMS = [f"!r{n}:{server}" for n in range(10) for server in SERVERS[:5]]
# No rule the sequence writes names these: each probe of one kind is asked beside them.
NEUTRAL_USER, NEUTRAL_ROOM = "@neutral:neutral.test", "!neutral:neutral.test"


def _entity(rng: random.Random, kind: str) -> str:
    """A literal ID most often; else a glob, a few of which name many probes (kept rare, so that most
    probes are not banned by one rule for the whole run), or the ID with its server in capitals."""
    n, s = rng.randrange(10), rng.randrange(5)
    if kind == "user":
        narrow = [f"@u{n}*:s{s}.example", f"@u?:s{s}.example", f"@u{n}:s?.example", f"@U{n}:S{s}.EXAMPLE",
                  f"@u{n}:S{s}.example", f"@u{n}:t*.example"]
        broad = [f"@*:s{s}.example"]
        pool = USERS
    elif kind == "room":
        narrow = [f"!r{n}*:s{s}.example", f"!r{n}:S{s}.example", f"!R{n}:s{s}.example", f"!r{n}:s?.example"]
        broad = [f"!*:s{s}.example", "!r?:s?.example"]
        pool = ROOMS
    else:
        narrow = ["t*.example", f"S{s}.Example", "t?.example", f"s{s}.exampl?"]
        broad = ["s?.example"]
        pool = SERVERS
    form = rng.choices(("literal", "narrow", "broad"), weights=(70, 25, 5))[0]
    return rng.choice(pool if form == "literal" else narrow if form == "narrow" else broad)


class Operation(NamedTuple):
    room: int
    what: str  # "set", "empty" or "redact"
    event_type: str = ""
    state_key: str = ""
    content: Optional[Dict[str, Any]] = None


def operations(rng: random.Random, count: int) -> Iterator[Operation]:
    """The moderators' edits: new rules, replacements at the same state key (often under another
    type), withdrawals by empty content, and redactions (``redact`` picks its event when it runs)."""
    for _ in range(count):
        room, kind = rng.randrange(2), rng.choice(KINDS)
        event_type = f"{rng.choices(FAMILIES, weights=(6, 2, 2))[0]}.{kind}"
        state_key = f"rule:{rng.randrange(12)}"
        what = rng.choices(("set", "empty", "redact"), weights=(62, 14, 24))[0]
        if what == "set":
            if rng.random() < 0.12:
                recommendation = rng.choice(UNKNOWN_RECOMMENDATIONS)
            else:
                recommendation = rng.choices(list(RECOMMENDATIONS), weights=(10, 2, 2, 1, 3))[0]
            content = {"entity": _entity(rng, kind), "recommendation": recommendation, "reason": "churn"}
            if rng.random() < 0.04:  # no rule: no entity, one that is no string, or another kind's
                content["entity"] = rng.choice([None, 5, ["@u1:s1.example"], _entity(rng, rng.choice(KINDS))])
                if content["entity"] is None:
                    del content["entity"]
            elif rng.random() < 0.03:  # a glob starting with a wildcard is a glob of any kind
                content["entity"] = rng.choice(["*.example", "*1.example", "*:s2.example"])
            yield Operation(room, what, event_type, state_key, content)
        elif what == "empty":
            yield Operation(room, what, event_type, state_key, {})
        else:
            yield Operation(room, what)


# ---- the expected verdicts, from the rooms' state as Synapse returns it ----

class Rule(NamedTuple):
    kind: str
    entity: str
    recommendation: str  # BAN or ALLOW


def rules_of(state: List[Dict[str, Any]]) -> List[Rule]:
    """A room's rules: one slot per kind and state key, the newest type's event deciding."""
    slots: Dict[Tuple[str, str], Tuple[int, Dict[str, Any]]] = {}
    for event in state:
        family, _, kind = event["type"].rpartition(".")
        if family not in FAMILIES or kind not in KINDS:
            continue
        rank = FAMILIES.index(family)
        key = (kind, event["state_key"])
        if key not in slots or rank < slots[key][0]:
            slots[key] = (rank, event.get("content") or {})
    rules = []
    for (kind, _), (_, content) in slots.items():
        recommendation = content.get("recommendation")
        recommendation = RECOMMENDATIONS.get(recommendation) if isinstance(recommendation, str) else None
        entity = content.get("entity")
        if recommendation and isinstance(entity, str) and _of_kind(kind, entity):
            rules.append(Rule(kind, content["entity"], recommendation))
    return rules


def _of_kind(kind: str, entity: str) -> bool:
    """Whether an ID of the rule's kind could match the entity: a user ID starts with ``@``, a room ID
    or alias with ``!`` or ``#``, a server name with neither; a glob may start with a wildcard."""
    if entity[:1] in ("*", "?"):
        return True
    return entity[:1] == "@" if kind == "user" else entity[:1] in ("!", "#") if kind == "room" else \
        entity[:1] not in ("@", "!", "#")


def _matches(pattern: str, entity: str) -> bool:
    if "*" in pattern or "?" in pattern:  # globs compare the whole ID without regard to case
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(regex, entity, re.IGNORECASE | re.DOTALL) is not None
    if pattern.startswith(("@", "#")):  # an exact ID: its localpart as written, its server in any case
        local, _, server = pattern.partition(":")
        other_local, _, other_server = entity.partition(":")
        return local == other_local and server.lower() == other_server.lower()
    if pattern.startswith("!"):  # room IDs are opaque: whole, as written
        return pattern == entity
    return pattern.lower() == entity.lower()  # a server name


def _decided(rules: List[Rule], kind: str, entity: str) -> Optional[str]:
    named = {rule.recommendation for rule in rules if rule.kind == kind and _matches(rule.entity, entity)}
    return ALLOW if ALLOW in named else BAN if BAN in named else None


def expected_ban(sources: List[List[Rule]], probe: str) -> bool:
    """The first source with a rule for the entity decides; a user's own rules before their server's."""
    for rules in sources:
        if probe.startswith("@"):
            decision = _decided(rules, "user", probe) or _decided(rules, "server", probe.partition(":")[2])
        else:
            decision = _decided(rules, "room", probe)
        if decision:
            return decision == BAN
    return False


# ---- what stands between the gateway and the homeserver ----

class CuttableProxy:
    """A TCP proxy from the gateway to Synapse whose connections can be cut: ``cut`` resets every
    open connection and refuses (accepts and closes) new ones until ``restore``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", gateway_process.free_port()))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.open: List[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _reset(client)
                continue
            with self.lock:
                self.open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.down = True
        with self.lock:
            connections, self.open = self.open, []
        for connection in connections:
            _reset(connection)

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _reset(connection: socket.socket) -> None:
    """Ends ``connection`` at once: a close alone would wait for the pump thread blocked reading it."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        connection.close()


# ---- the run ----

class Moderation:
    """Two policy rooms on one Synapse, a moderator who edits them, and what each event was."""

    def __init__(self, hs: Homeserver) -> None:
        self.moderator: User = hs.register("convergence-moderator")
        self.bot: User = hs.register("convergence-bot")
        self.rooms = [self.moderator.create_room(preset="public_chat", name=f"Bans {n}") for n in range(2)]
        self.current: Dict[Tuple[int, str, str], str] = {}  # (room, type, state key) -> its event ID now
        self.superseded: List[Tuple[int, str]] = []  # (room, event ID) of events replaced since
        self.counts: Dict[str, int] = {"set": 0, "empty": 0, "redact": 0, "redact superseded": 0, "kick": 0}

    def apply(self, rng: random.Random, operation: Operation) -> None:
        room_id = self.rooms[operation.room]
        if operation.what == "redact":
            if self.superseded and rng.random() < 0.2:  # an event the state no longer holds: changes nothing
                room, event_id = self.superseded.pop(rng.randrange(len(self.superseded)))
                self.moderator.redact(self.rooms[room], event_id, reason="churn")
                self.counts["redact superseded"] += 1
                return
            slots = sorted(slot for slot in self.current if slot[0] == operation.room)
            if slots:
                self.moderator.redact(room_id, self.current[rng.choice(slots)], reason="churn")
                self.counts["redact"] += 1
                return
            operation = Operation(operation.room, "empty", f"m.policy.rule.{rng.choice(KINDS)}", "rule:0", {})
        slot = (operation.room, operation.event_type, operation.state_key)
        if slot in self.current:
            self.superseded.append((operation.room, self.current[slot]))
        self.current[slot] = self.moderator.set_state(room_id, operation.event_type, operation.content,
                                                      state_key=operation.state_key)
        self.counts[operation.what] += 1

    def kick_the_bot(self, room: int) -> None:
        self.moderator.call("POST", f"/_matrix/client/v3/rooms/{q(self.rooms[room])}/kick",
                            {"user_id": self.bot.user_id, "reason": "churn"})
        self.counts["kick"] += 1

    def expected(self) -> Dict[str, bool]:
        sources = [rules_of(self.moderator.call("GET", f"/_matrix/client/v3/rooms/{q(room)}/state"))
                   for room in self.rooms]
        return {probe: expected_ban(sources, probe) for probe in USERS + ROOMS}


class Probes:
    """Asks the gateway's user_may_join_room about each probe, a user beside a neutral room or a room
    beside a neutral user, over one kept-alive connection."""

    def __init__(self, gateway: gateway_process.Gateway) -> None:
        self.gateway = gateway
        self.connection = http.client.HTTPConnection(urllib.parse.urlsplit(gateway.url).netloc, timeout=10)

    def banned(self, probe: str) -> bool:
        user, room = (probe, NEUTRAL_ROOM) if probe.startswith("@") else (NEUTRAL_USER, probe)
        body = json.dumps({"user": user, "room": room, "is_invited": False})
        self.connection.request("POST", "/v1/spam_checker/user_may_join_room", body,
                                {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        response = self.connection.getresponse()
        answer = json.loads(response.read())
        assert response.status in (200, 403), (probe, response.status, answer)
        return response.status == 403

    def verdicts(self) -> Dict[str, bool]:
        return {probe: self.banned(probe) for probe in USERS + ROOMS}

    def explain(self, probe: str) -> Any:
        url = f"{self.gateway.management_url}/actuator/policylists/match?entity={q(probe)}"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.loads(answer.read())["convergence"]

    def explained(self) -> Dict[str, bool]:
        """Each probe as the admin's explain endpoint decides it (a ban or takedown, not an unban)."""
        decisions = {probe: self.explain(probe)["decision"] for probe in USERS + ROOMS}
        return {probe: bool(decision) and decision["recommendation"] != "ALLOW" for probe, decision in decisions.items()}

    def close(self) -> None:
        self.connection.close()


class Setup(NamedTuple):
    synapse: homeservers.Synapse
    moderation: Moderation
    proxy: CuttableProxy
    workdir: Path
    config: str
    reloaded: str  # the same sources with another sync-timeout: a reload builds the instance again


def _config(server_name: str, moderation: Moderation, proxy_url: str, token_file: Path, sync_timeout: int) -> str:
    sources = "".join(f"""
          - name: room-{n}
            room: "{room}"
            homeserver: {proxy_url}
            access-token-file: {token_file}
            sync-timeout: {sync_timeout}s
            timeout: 5s
            retry-backoff: 200ms
            retry-max-backoff: {RETRY_MAX:.0f}s""" for n, room in enumerate(moderation.rooms))
    return gateway_yaml(server_name, f"""
    - module: policy_list
      name: convergence
      config:
        sources:{sources}
spring:
  lifecycle:
    timeout-per-shutdown-phase: 2s
""")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("policy-convergence")
    with contextlib.ExitStack() as running:
        synapse = homeservers.Synapse(homeservers.install(), "P", workdir / "synapse", [])
        synapse.start()
        running.callback(synapse.stop)
        moderation = Moderation(Homeserver(synapse.url, synapse.server_name))
        for room in moderation.rooms:
            moderation.bot.join(room)
        proxy = CuttableProxy(synapse.port)
        running.callback(proxy.close)
        token_file = workdir / "bot.token"
        token_file.write_text(moderation.bot.token)
        configs = [_config(synapse.server_name, moderation, f"http://127.0.0.1:{proxy.port}", token_file, sync_timeout)
                   for sync_timeout in (2, 3)]
        yield Setup(synapse, moderation, proxy, workdir, *configs)


def _converged(gateway: gateway_process.Gateway, moderation: Moderation, since: float,
               what: str) -> Tuple[float, int, int]:
    """Waits until the gateway answers every probe as the rooms' state says; returns the seconds since
    ``since``, the probes asked and how many of them the state bans. Fails with every mismatch left."""
    expected = moderation.expected()
    probes = Probes(gateway)
    try:
        deadline = since + CATCH_UP
        while True:
            observed = probes.verdicts()
            if observed == expected:
                return time.monotonic() - since, len(expected), sum(expected.values())
            if time.monotonic() > deadline:
                wrong = sorted(probe for probe in expected if observed[probe] != expected[probe])
                details = "\n".join(f"  {probe}: expected {'banned' if expected[probe] else 'allowed'}, gateway "
                                    f"{'banned' if observed[probe] else 'allowed'}; match: "
                                    f"{json.dumps(probes.explain(probe))[:600]}" for probe in wrong[:12])
                raise AssertionError(f"{what}: {len(wrong)} of {len(expected)} probes still differ {CATCH_UP:.0f} s "
                                     f"after (POLICY_CONVERGENCE_SEED={SEED}):\n{details}")
            time.sleep(0.05)
    finally:
        probes.close()


def test_the_gateways_rules_converge_to_the_policy_rooms_state_under_churn_restarts_and_cuts(setup: Setup, report):
    rng = random.Random(SEED)
    sequence = list(operations(rng, OPERATIONS))
    moderation = setup.moderation
    # The gateway stops for DOWN operations, then starts while the moderator goes on (its first full read
    # races the burst); later its connection to the homeserver is cut for CUT operations, all in the first
    # room, more than a sync's timeline limit (100 events): the bot's next sync finds a gap.
    # The moderator also kicks the bot from the second room once (a public room: it rejoins and reads it whole).
    restart_at = rng.randrange(OPERATIONS // 8 + 5, OPERATIONS // 4)
    kick_at = rng.randrange(OPERATIONS // 4 + DOWN + 20, OPERATIONS // 2 - 10)
    cut_at = rng.randrange(OPERATIONS // 2, OPERATIONS - CUT - 10)
    reload_at = rng.randrange(kick_at + 5, cut_at - 5)  # and reloads the gateway with a source's setting changed
    for index in range(cut_at, cut_at + CUT):
        sequence[index] = sequence[index]._replace(room=0)
    checkpoints = {OPERATIONS // 8: "after the first burst",
                   cut_at - 1: "after the burst in which the bot was kicked from the second room and the gateway "
                               "reloaded",
                   cut_at + CUT: "after the burst during the cut, once the connection is back",
                   OPERATIONS: "at the end"}
    figures: List[str] = []
    began = time.monotonic()
    gateway: Any = gateway_process.start(setup.config, setup.workdir / "gateway", TOKEN)
    try:
        burst_began = time.monotonic()
        for index, operation in enumerate(sequence, start=1):
            moderation.apply(rng, operation)
            if index == restart_at:
                gateway.stop()
            elif index == restart_at + DOWN:
                gateway = _Starting(setup, figures)
            elif index == kick_at:
                moderation.kick_the_bot(1)
            elif index == reload_at:
                if isinstance(gateway, _Starting):
                    gateway = gateway.ready()
                answer = gateway.reload(setup.reloaded)
                assert answer.get("result") == "reloaded", answer
            elif index == cut_at:
                setup.proxy.cut()
            elif index == cut_at + CUT:
                setup.proxy.restore()
            if isinstance(gateway, _Starting) and not gateway.thread.is_alive():
                gateway = gateway.ready()  # soon after its first read, before later events can mask one it missed
                checkpoints.setdefault(index, "just after the restarted gateway was ready, its first read under the burst")
            if index in checkpoints:
                if isinstance(gateway, _Starting):
                    gateway = gateway.ready()
                last = time.monotonic()
                took, probes, banned = _converged(gateway, moderation, last, checkpoints[index])
                figures.append(f"{checkpoints[index]} (operation {index}, the burst {last - burst_began:.1f} s long): "
                               f"{probes} probes ({banned} banned) converged {took:.2f} s after its last event")
                burst_began = time.monotonic()
        # quiet for longer than the compiler waits before it folds each source's layer of changes in
        time.sleep(FOLD_AFTER + 1)
        took, probes, banned = _converged(gateway, moderation, time.monotonic(), "once the rooms were quiet")
        explainer = Probes(gateway)
        try:
            explained = explainer.explained()
        finally:
            explainer.close()
        expected = moderation.expected()
        assert explained == expected, (f"/actuator/policylists/match differs from the rooms' state for "
                                       f"{sorted(p for p in expected if explained[p] != expected[p])} "
                                       f"(POLICY_CONVERGENCE_SEED={SEED})")
        figures.append(f"after {FOLD_AFTER + 1:.0f} s without an event (each source compiled whole again): {probes} "
                       f"probes ({banned} banned) answered as before, and /actuator/policylists/match decides each alike")
        # one WARN line when a source starts failing, another only when it fails differently: the cut's
        # retries (the JDK's words for a reset connection alternate) are one failure, a broken-off answer another
        warned = {f"room-{n}": [line for line in gateway.log.read_text(errors="replace").splitlines()
                                if f"source 'room-{n}'" in line and " WARN " in line] for n in range(2)}
        assert all(len(lines) <= 3 for lines in warned.values()), warned
    finally:
        if isinstance(gateway, _Starting):
            gateway = gateway.ready()
        gateway.stop()
    figures.insert(0, f"seed {SEED}: {OPERATIONS} operations on 2 policy rooms ("
                   + ", ".join(f"{count} {what}" for what, count in moderation.counts.items())
                   + f"); the gateway stopped at operation {restart_at} and started again at {restart_at + DOWN}, "
                   f"the bot kicked from the second room at {kick_at}, the gateway reloaded at {reload_at}, "
                   f"its homeserver connection cut from {cut_at} to {cut_at + CUT}; {time.monotonic() - began:.0f} s in all")
    report.note("Policy-list convergence (test_15):")
    for line in figures:
        report.note(f"- {line}")
    print("\n".join(figures))


class _Starting:
    """A gateway starting in a thread while the moderator goes on."""

    def __init__(self, setup: Setup, figures: List[str]) -> None:
        self.gateway: Optional[gateway_process.Gateway] = None
        self.failure: Optional[BaseException] = None
        self.began = time.monotonic()
        self.figures = figures
        self.thread = threading.Thread(target=self._start, args=(setup,), daemon=True)
        self.thread.start()

    def _start(self, setup: Setup) -> None:
        try:
            self.gateway = gateway_process.start(setup.config, setup.workdir / "gateway", TOKEN)
            self.figures.append(f"gateway restarted under the burst: ready {time.monotonic() - self.began:.1f} s after "
                                "its start")
        except BaseException as failure:  # noqa: B902 (handed to the test's thread)
            self.failure = failure

    def ready(self) -> gateway_process.Gateway:
        self.thread.join(timeout=300)
        if self.failure is not None:
            raise self.failure
        assert self.gateway is not None, "the gateway did not start within 300 s"
        return self.gateway
