"""Being a room's policy server (MSC4284), third part: the packaged gateway with its policy server
listener on, asked about REAL events of a REAL Synapse.

The events are made by Synapse 1.67 through its client API (a room, a normal user's message, a
denylisted user's message, the room's own ``m.room.policy`` state event, a message in a room the
policy server does not serve) and read as Synapse stored them, PDU JSON and room version, from its
SQLite database. Synapse 1.67 has no policy server client, so the test plays the homeserver's part
with Synapse's own code and keys: each request is signed with Synapse's signing key (signedjson, as
its federation client signs), the gateway fetches that key from Synapse's TLS federation port, and
every signature the gateway gives is checked with signedjson over Synapse's own
``prune_event_dict``, against the public key the gateway publishes on its well-known document.
The key file is written by the jar's ``GeneratePolicyServerKey``, as an admin would, and the
decision is the gateway's ``check_event_for_spam`` chain (a ``user_denylist`` module). One Synapse
and one gateway serve the whole module."""

from __future__ import annotations

import contextlib
import copy
import json
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import verify_signed_json
from unpaddedbase64 import decode_base64

import gateway_process
from harness import federation
from harness import synapse as homeservers
from harness.client import Homeserver, q

GENERATOR = "dev.matrixpolicy.gateway.policyserver.GeneratePolicyServerKey"
POLICY_SERVER = "policy.example.org"
KEY_ID = "ed25519:policy_server"
SIGN = "/_matrix/policy/v1/sign"
UNSTABLE_SIGN = "/_matrix/policy/unstable/org.matrix.msc4284/sign"
REFUSAL = "Spammers are not welcome in this room"

PRUNE = """
import json, sys
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.events.utils import prune_event_dict
asked = json.load(sys.stdin)
json.dump([prune_event_dict(KNOWN_ROOM_VERSIONS[a["room_version"]], a["event"]) for a in asked], sys.stdout)
"""


def _config(synapse: homeservers.Synapse, port: int, key_file: Path, rooms: List[Tuple[str, str]]) -> str:
    served = json.dumps([{"id": room_id, "version": version} for room_id, version in rooms])
    return f"""
policy-gateway:
  server-name: "{synapse.server_name}"
  auth:
    token-file: TOKEN_FILE
  modules:
    - module: user_denylist
      name: spammers
      config:
        users: ["@spammer:*"]
        error: {REFUSAL}
  policy-server:
    enabled: true
    name: {POLICY_SERVER}
    port: {port}
    address: 127.0.0.1
    key-file: {key_file}
    rooms: {served}
    servers:
      - name: "{synapse.server_name}"
        address: https://127.0.0.1:{synapse.federation_port}
        trust-any-certificate: true
"""


@dataclass
class Served:
    """The running Synapse and gateway, and the real events the tests ask about."""
    synapse: homeservers.Synapse
    gateway: gateway_process.Gateway
    key: Any
    url: str
    pdus: Dict[str, Dict[str, Any]]
    event_ids: Dict[str, str]
    pruned: Dict[str, Any]
    """The allowed event as Synapse's ``prune_event_dict`` redacts it in its room's version."""

    def ask(self, path: str, event: Any, destination: str = POLICY_SERVER, signed_content: Any = None,
            signed: bool = True) -> Tuple[int, Dict[str, Any]]:
        """POSTs ``event`` to the listener, signed by Synapse for ``destination`` (over
        ``signed_content`` when given, to tamper with the body)."""
        body = json.dumps(event).encode()
        request = urllib.request.Request(self.url + path, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        if signed:
            covered = event if signed_content is None else signed_content
            request.add_header("Authorization", federation.x_matrix(self.key, self.synapse.server_name, "POST", path,
                                                                    destination, covered))
        return _answer(request)

    def sign(self, name: str, path: str = SIGN) -> Tuple[int, Dict[str, Any]]:
        return self.ask(path, self.pdus[name])

    def check(self, name: str) -> Tuple[int, Dict[str, Any]]:
        """The legacy check, with the event ID Synapse gave the event, escaped as Synapse escapes path parts."""
        return self.ask(f"/_matrix/policy/unstable/org.matrix.msc4284/event/{q(self.event_ids[name])}/check",
                        self.pdus[name])


def _answer(request: urllib.request.Request) -> Tuple[int, Dict[str, Any]]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def _generate_key(key_file: Path) -> Path:
    """The policy server's key, generated as an admin would."""
    generated = gateway_process.run_main(GENERATOR, [str(key_file)])
    assert generated.returncode == 0, generated.stderr
    return key_file


def _stop(starting: "Future[gateway_process.Gateway]") -> None:
    if starting.exception() is None:
        starting.result().stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("policy-server-listener")
    port = gateway_process.free_port()
    with contextlib.ExitStack() as running:
        # The gateway starts while Synapse does, serving no room at first: the room, known only once
        # Synapse made it, comes by reload.
        background = running.enter_context(ThreadPoolExecutor(1))
        key_file = background.submit(_generate_key, workdir / "policy_server.key")
        synapse = homeservers.Synapse(homeservers.install(), "P", workdir / "synapse", [])
        starting = background.submit(lambda: gateway_process.start(_config(synapse, port, key_file.result(), []),
                                                                   workdir / "gateway", "e2e-policy-server-token"))
        running.callback(_stop, starting)
        running.callback(synapse.stop)
        synapse.start()
        hs = Homeserver(synapse.url, synapse.server_name)
        alice, spammer = hs.register("alice"), hs.register("spammer")
        room = alice.create_room(preset="public_chat", name="Served")
        spammer.join(room)
        other = alice.create_room(preset="private_chat")
        version_3 = alice.create_room(preset="private_chat", room_version="3")
        event_ids = {
            "allowed": alice.say(room, "héllo from a real Synapse 😀"),
            "spam": spammer.say(room, "buy now"),
            "policy": alice.set_state(room, "m.room.policy", {"via": POLICY_SERVER}),
            "other room": alice.say(other, "not served"),
            # Room version 3's event IDs are standard base64: about every other one holds a '/'.
            "slash": next(filter(lambda event_id: "/" in event_id, (alice.say(version_3, "a slash?") for _ in range(40)))),
        }
        stored = {name: synapse.pdu(event_id) for name, event_id in event_ids.items()}
        room_version = stored["allowed"][0]
        pdus = {name: pdu for name, (_, pdu) in stored.items()}
        [pruned] = synapse.installation.run_json(PRUNE, [{"room_version": room_version, "event": pdus["allowed"]}])
        gateway = starting.result()
        reloaded = gateway.reload(_config(synapse, port, key_file.result(), [(room, room_version), (version_3, "3")]))
        assert reloaded.get("generation") == 2, reloaded
        yield Served(synapse, gateway, federation.signing_key(synapse), f"http://127.0.0.1:{port}", pdus, event_ids,
                     pruned)


def _published_key(served: Served) -> Any:
    with urllib.request.urlopen(served.url + "/.well-known/matrix/policy_server", timeout=10) as response:
        published = json.load(response)
    return decode_verify_key_bytes(KEY_ID, decode_base64(published["public_keys"]["ed25519"]))


def _error(answer: Tuple[int, Dict[str, Any]]) -> Tuple[int, Optional[str]]:
    return answer[0], answer[1].get("errcode")


def test_an_allowed_real_event_is_signed_over_synapses_pruned_event_with_the_published_key(served: Served) -> None:
    status, answer = served.sign("allowed")
    assert status == 200, answer
    assert list(answer) == [POLICY_SERVER] and list(answer[POLICY_SERVER]) == [KEY_ID], answer
    signature = answer[POLICY_SERVER][KEY_ID]
    pruned = copy.deepcopy(served.pruned)
    pruned["signatures"] = {POLICY_SERVER: {KEY_ID: signature}}
    verify_signed_json(pruned, POLICY_SERVER, _published_key(served))  # raises SignatureVerifyException
    again = served.sign("allowed")
    unstable = served.sign("allowed", UNSTABLE_SIGN)
    assert again == unstable == (200, answer), "the same event gets the same signature every time"


def test_the_denylisted_users_real_event_is_refused(served: Served) -> None:
    status, answer = served.sign("spam")
    assert (status, answer) == (400, {"errcode": "M_FORBIDDEN", "error": REFUSAL})
    assert _error(served.sign("spam", UNSTABLE_SIGN)) == (400, "M_FORBIDDEN")


def test_the_legacy_check_recommends_by_the_event_id_synapse_gave(served: Served) -> None:
    assert served.check("allowed") == (200, {"recommendation": "ok"}), "our event ID is Synapse's"
    assert served.check("spam") == (200, {"recommendation": "spam"})
    assert served.check("slash") == (200, {"recommendation": "ok"}), "a '/' in the event ID arrives as %2F"


def test_unsigned_tampered_or_misdirected_requests_are_unauthorized(served: Served) -> None:
    event = served.pdus["allowed"]
    other_body = copy.deepcopy(event)
    other_body["origin_server_ts"] += 1
    answers = {
        "unsigned": served.ask(SIGN, event, signed=False),
        "tampered body": served.ask(SIGN, other_body, signed_content=event),
        "other destination": served.ask(SIGN, event, destination="other.example.org"),
    }
    assert {what: _error(answer) for what, answer in answers.items()} == {
        what: (401, "M_UNAUTHORIZED") for what in answers}, answers


def test_an_event_of_a_room_not_served_is_not_found(served: Served) -> None:
    assert _error(served.sign("other room")) == (404, "M_NOT_FOUND")


def test_a_content_hash_mismatch_and_the_rooms_policy_event_are_bad_json(served: Served) -> None:
    edited = copy.deepcopy(served.pdus["allowed"])
    edited["content"]["body"] = "edited after hashing"
    status, answer = served.ask(SIGN, edited)
    assert (status, answer["errcode"]) == (400, "M_BAD_JSON") and "content hash" in answer["error"], answer
    assert _error(served.sign("policy")) == (400, "M_BAD_JSON")


def test_the_chain_decides_each_event_once_however_often_and_wherever_it_is_asked(served: Served) -> None:
    for name in ("allowed", "spam", "slash"):  # every event this module's tests get past the checks
        served.sign(name)
        served.sign(name, UNSTABLE_SIGN)
        served.check(name)
    decisions = {outcome: served.gateway.metric("policy_decisions_total", callback="check_event_for_spam",
                                                outcome=outcome) for outcome in ("allow", "deny")}
    assert decisions == {"allow": 2, "deny": 1}, "asked again, the answer is the one remembered"
