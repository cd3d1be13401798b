"""Being a room's policy server (MSC4284), first part: the signing core, checked independently of
our own code. Over a corpus of real-shaped events, in every room version Synapse 1.67 knows,

- our redacted form equals Synapse's ``prune_event_dict`` (run by the Synapse under test), and
- our signatures verify with ``signedjson`` against our public key, and equal the signature
  ``signedjson`` makes itself with the key file our generator wrote (Ed25519 is deterministic).

Our side runs as an admin would run it: the key generator and a test main (``SigningProbe``) from
the packaged jar through Spring Boot's PropertiesLauncher. Room versions 11 and 12, which Synapse
1.67 does not know, are checked against the spec's text in the Java unit tests (RedactionTest).
No homeserver is started."""

from __future__ import annotations

import copy
import json
import stat
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
from signedjson.key import decode_verify_key_bytes, encode_verify_key_base64, get_verify_key, read_signing_keys
from signedjson.sign import sign_json, verify_signed_json
from unpaddedbase64 import decode_base64

import gateway_process
from harness import synapse as homeservers

GENERATOR = "dev.matrixpolicy.gateway.policyserver.GeneratePolicyServerKey"
PROBE = "dev.matrixpolicy.gateway.policyserver.SigningProbe"
POLICY_SERVER = "policy.example.org"
KEY_ID = "ed25519:policy_server"
MAX = 2 ** 53 - 1

PRUNE = """
import json, sys
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.events.utils import prune_event_dict
events = json.load(sys.stdin)
json.dump({v: [prune_event_dict(rv, e) for e in events] for v, rv in KNOWN_ROOM_VERSIONS.items()}, sys.stdout)
"""


def _event(event_type: str, content: Dict[str, Any], state_key: Any = None, **extra: Any) -> Dict[str, Any]:
    event = {"type": event_type, "room_id": "!room:hs.example", "sender": "@alice:hs.example",
             "origin": "hs.example", "origin_server_ts": 1_700_000_000_000, "depth": 12,
             "prev_events": ["$prev"], "auth_events": ["$create", "$power"],
             "hashes": {"sha256": "q8Kd0Tkbk2nO5v+H3gWnXqWg4bX4n2aTqS0N8pYk7wE"},
             "signatures": {"hs.example": {"ed25519:a_key": "c2lnbmF0dXJl"}},
             "unsigned": {"age_ts": 1_700_000_000_001, "replaces_state": "$old", "age": 4, "transaction_id": "t"},
             "content": content}
    if state_key is not None:
        event["state_key"] = state_key
    event.update(extra)
    return event


CORPUS: List[Dict[str, Any]] = [
    _event("m.room.member", {"membership": "join", "displayname": "Ålice 😀", "avatar_url": "mxc://hs/a",
                             "join_authorised_via_users_server": "@mod:hs.example",
                             "third_party_invite": {"display_name": "a", "signed": {"token": "t", "mxid": "@alice:hs.example"}}},
           "@alice:hs.example", membership="join", prev_state=[]),
    _event("m.room.create", {"creator": "@alice:hs.example", "room_version": "9", "m.federate": True,
                             "predecessor": {"room_id": "!old:hs.example", "event_id": "$tomb"}}, ""),
    _event("m.room.join_rules", {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": "!space:hs"}],
                                 "extra": {"nested": [1, 2, {"deep": "x"}]}}, ""),
    _event("m.room.power_levels", {"users": {"@alice:hs.example": 100, "@max:hs.example": MAX, "@min:hs.example": -MAX},
                                   "users_default": 0, "events": {"m.room.name": 50}, "events_default": 0,
                                   "state_default": 50, "ban": 50, "kick": 50, "redact": 50, "invite": 0,
                                   "historical": 100, "notifications": {"room": 50}}, ""),
    _event("m.room.history_visibility", {"history_visibility": "shared", "x": "y"}, ""),
    _event("m.room.aliases", {"aliases": ["#a:hs.example", "#ü:hs.example"]}, "hs.example"),
    _event("m.room.redaction", {"redacts": "$spam", "reason": "spam"}, redacts="$spam"),
    _event("m.room.message", {"msgtype": "m.text", "body": "héllo \"quoted\" \\ \n\t\u0001 \u2028 日本語 😀",
                              "weight": 1.5, "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}),
    {"type": "m.room.message", "room_id": "!room:hs.example", "sender": "@bob:hs.example",
     "event_id": "$v1style:hs.example", "origin_server_ts": 1, "depth": MAX, "prev_events": [], "auth_events": [],
     "hashes": {"sha256": "abc"}, "content": {"body": "no unsigned, no signatures"}},
    _event("m.custom.state", {"key": {"z": 1, "a": [MAX, -MAX]}}, "ünïcode state key"),
]


def _synapse_pruned() -> Dict[str, List[Dict[str, Any]]]:
    return homeservers.install().run_json(PRUNE, CORPUS)


def _generate_key(path: Path) -> subprocess.CompletedProcess:
    return gateway_process.run_main(GENERATOR, [str(path)])


def _ours(key_file: Path, room_versions: List[str], corpus: List[Dict[str, Any]]) -> Dict[str, Any]:
    items = [{"room_version": version, "event": event} for version in room_versions for event in corpus]
    answer = gateway_process.run_main(PROBE, [str(key_file)], stdin=json.dumps(items), with_test_classes=True)
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy-server") / "policy_server.key"
    generated = _generate_key(path)
    assert generated.returncode == 0, generated.stderr
    return path


def test_the_generated_key_file_is_owner_only_and_read_by_signedjson_as_the_policy_server_key(key_file: Path) -> None:
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    [signing_key] = read_signing_keys(key_file.read_text().splitlines())
    assert f"{signing_key.alg}:{signing_key.version}" == KEY_ID
    printed = _generate_key(key_file)
    assert printed.returncode == 1 and "never overwritten" in printed.stderr
    ours = _ours(key_file, [], [])
    assert ours["public_key"] == encode_verify_key_base64(get_verify_key(signing_key))


def test_our_redaction_equals_synapses_prune_event_dict_and_signedjson_verifies_our_signatures(key_file: Path) -> None:
    pruned = _synapse_pruned()
    stable = [version for version in pruned if version.isdigit()]
    assert stable == [str(n) for n in range(1, len(stable) + 1)] and len(stable) >= 10, stable
    ours = _ours(key_file, stable, CORPUS)
    [signing_key] = read_signing_keys(key_file.read_text().splitlines())
    verify_key = decode_verify_key_bytes(KEY_ID, decode_base64(ours["public_key"]))
    results = iter(ours["results"])
    checked = 0
    for version in stable:
        for event, synapse in zip(CORPUS, pruned[version]):
            result = next(results)
            where = f"room version {version}, {event['type']}"
            assert "error" not in result, f"{where}: {result}"
            if "unsigned" not in event and synapse.get("unsigned") == {}:
                del synapse["unsigned"]  # 1.67 adds an empty unsigned; current Synapse, like us, does not
            assert result["redacted"] == synapse, where
            signed = copy.deepcopy(synapse)
            signed["signatures"] = {POLICY_SERVER: {KEY_ID: result["signature"]}}
            verify_signed_json(signed, POLICY_SERVER, verify_key)  # raises SignatureVerifyException
            theirs = sign_json(copy.deepcopy(synapse), POLICY_SERVER, signing_key)
            assert theirs["signatures"][POLICY_SERVER][KEY_ID] == result["signature"], where
            checked += 1
    assert checked == len(stable) * len(CORPUS)


def test_unstable_room_versions_and_integers_beyond_the_canonical_range_are_refused(key_file: Path) -> None:
    unstable = [version for version in _synapse_pruned() if not version.isdigit()]
    assert unstable, "Synapse 1.67 knows unstable room versions"
    beyond = _event("m.room.power_levels", {"users": {"@a:hs": MAX + 1}}, "")
    ours = _ours(key_file, unstable, [CORPUS[0]])["results"] + _ours(key_file, ["10"], [beyond])["results"]
    assert [result["error"] for result in ours] == ["UnknownRoomVersionException"] * len(unstable) + ["BadJsonException"]
