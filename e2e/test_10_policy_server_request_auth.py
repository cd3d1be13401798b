"""Being a room's policy server (MSC4284), second part: knowing who is asking. A request signed
with a real Synapse's OWN signing key (read from its ``signing_key_path``, signed with signedjson
as Synapse's federation client signs) is accepted by our ``RequestAuthenticator``, which fetches
that Synapse's key from its own ``/_matrix/key/v2/server`` over its TLS federation port (the
server name is ``127.0.0.1:<port>``, so the spec's resolution takes it as is; its certificate is
self-signed and accepted for that name only). Tampered method, URI, body, origin or destination are
refused. Synapse 1.67 answers a notary query for its own name with no keys, so the origin itself is
asked. Our side runs as a test main (``RequestAuthenticationProbe``) from the packaged jar; one run
judges every request, so the key is fetched once and then served from the cache."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional

import pytest

import gateway_process
from harness import federation
from harness import synapse as homeservers

PROBE = "dev.matrixpolicy.gateway.policyserver.RequestAuthenticationProbe"
POLICY_SERVER = "policy.example.org"
URI = "/_matrix/policy/v1/sign"
EVENT = {"type": "m.room.message", "room_id": "!room:hs", "sender": "@alice:hs", "content": {"body": "héllo"}}


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[homeservers.Synapse]:
    with homeservers.running("K", tmp_path_factory.mktemp("synapse-keys")) as synapse:
        yield synapse


def _signed(key: Any, origin: str, method: str = "POST", uri: str = URI, destination: str = POLICY_SERVER,
            content: Optional[Dict[str, Any]] = EVENT) -> Dict[str, Any]:
    """A request for the probe, signed as Synapse signs it."""
    return {"method": method, "uri": uri, "body": None if content is None else json.dumps(content),
            "authorization": [federation.x_matrix(key, origin, method, uri, destination, content)]}


def _judge(requests: List[Dict[str, Any]], self_signed: List[str]) -> List[Dict[str, Any]]:
    answer = gateway_process.run_main(PROBE, [POLICY_SERVER, *self_signed], stdin=json.dumps(requests),
                                      with_test_classes=True)
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def test_a_request_signed_with_synapses_own_key_is_authenticated_by_its_published_key(origin: homeservers.Synapse) -> None:
    name = origin.server_name
    key = federation.signing_key(origin)
    good = _signed(key, name)
    no_body = _signed(key, name, method="GET", uri="/_matrix/federation/v1/version?a=%20b", content=None)
    verdicts = _judge([good, no_body, good], [name])
    assert verdicts == [{"origin": name}] * 3


def test_tampered_method_uri_body_origin_or_destination_are_refused(origin: homeservers.Synapse) -> None:
    name = origin.server_name
    good = _signed(federation.signing_key(origin), name)
    tampered = [
        dict(good, method="PUT"),
        dict(good, uri=URI + "?x=1"),
        dict(good, body=json.dumps(dict(EVENT, content={"body": "hello"}))),
        dict(good, authorization=[good["authorization"][0].replace(f'origin="{name}"', 'origin="127.0.0.1:1"')]),
        dict(good, authorization=[good["authorization"][0].replace(POLICY_SERVER, "other.example.org")]),
    ]
    signed_for_other = _signed(federation.signing_key(origin), name, destination="other.example.org")
    signed_for_other["authorization"] = [signed_for_other["authorization"][0].replace(
        'destination="other.example.org",', "")]
    without_destination = dict(good, authorization=[good["authorization"][0].replace(f',destination="{POLICY_SERVER}"', "")])
    verdicts = _judge([good, without_destination, *tampered, signed_for_other], [name])
    assert verdicts[:2] == [{"origin": name}] * 2, "a header may omit destination (older servers)"
    refusals = verdicts[2:]
    assert [v.get("refused") for v in refusals] == ["UnauthorizedException"] * 6, refusals
    assert "Invalid signature" in refusals[0]["message"] and "Invalid signature" in refusals[2]["message"]
    assert "Could not fetch the keys of 127.0.0.1:1" in refusals[3]["message"]
    assert refusals[4]["message"] == "Destination mismatch in auth header"
    assert "Invalid signature" in refusals[5]["message"], "signed for another server, destination left out"


def test_without_the_self_signed_exception_synapses_certificate_is_not_trusted(origin: homeservers.Synapse) -> None:
    [verdict] = _judge([_signed(federation.signing_key(origin), origin.server_name)], [])
    assert verdict["refused"] == "UnauthorizedException" and "Could not fetch the keys" in verdict["message"], verdict
