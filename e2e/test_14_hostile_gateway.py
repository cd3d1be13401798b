"""Hostile gateway answers on a real Synapse: a gateway whose policy service vouches for user IDs
Synapse has no account for, and rewrites createRoom requests with fields of types Synapse cannot
read. Our module takes neither (docs/synapse.md, "What the module takes from the gateway"): the login
falls to Synapse's own password check, and the room creation follows ``on_create_room``'s failure
policy (here fail-closed: 503, and no room), where Synapse 1.67 alone would hand out an access token
it refuses on first use, or answer the client 500 with a traceback (or 400 for a room it half made).

The policy service answers what the client asks it to, so that each case is written where it is
tested: ``check_auth`` vouches for the user ID after ``vouch:`` in the password; ``on_create_room``
rewrites the request with the fields of its ``org.example.rewrite``."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, NamedTuple, Tuple

import pytest

import gateway_process
from conftest import TOKEN, gateway_yaml, shim_module
from harness import synapse as homeservers
from harness.client import Homeserver
from harness.services import send_json
from harness.steps import SHIM, refused, unique

REWRITE = "org.example.rewrite"


def _answer(path: str, args: Dict[str, Any]) -> Tuple[int, Any]:
    """The policy service: the http module's contract (the gateway's own API)."""
    if path.endswith("/password_auth_provider/check_auth"):
        password = args["login_dict"].get("password", "")
        return 200, {"result": password[len("vouch:"):] if password.startswith("vouch:") else None}
    if path.endswith("/third_party_rules/on_create_room"):
        content = args["request_content"]
        return 200, {"result": {"request_content": {**content, **content[REWRITE]} if REWRITE in content else None}}
    return 404, {"errcode": "M_UNRECOGNIZED", "error": f"no rule for {path}"}


class _PolicyService(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        args = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        send_json(self, _answer(self.path, args))

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read what they need
        pass


def _config(server_name: str, service_url: str) -> str:
    return gateway_yaml(server_name, f"""
    - module: http
      name: hostile
      config:
        url: {service_url}
        callbacks: [on_create_room]
        login-types:
          - type: m.login.password
            fields: [password]
""")


class Setup(NamedTuple):
    synapse: homeservers.Synapse
    hs: Homeserver


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("hostile-gateway")
    ports = (gateway_process.free_port(), gateway_process.free_port())
    with contextlib.ExitStack() as running:
        service = ThreadingHTTPServer(("127.0.0.1", gateway_process.free_port()), _PolicyService)
        threading.Thread(target=service.serve_forever, daemon=True).start()
        running.callback(service.server_close)
        running.callback(service.shutdown)
        synapse = homeservers.Synapse(homeservers.install(), "H", workdir / "synapse",
                                      [shim_module(f"http://127.0.0.1:{ports[0]}")])
        gateway = gateway_process.start(_config(synapse.server_name, f"http://127.0.0.1:{service.server_port}/v1"),
                                        workdir / "gateway", TOKEN, ports=ports)
        running.callback(gateway.stop)
        synapse.start()
        running.callback(synapse.stop)
        yield Setup(synapse, Homeserver(synapse.url, synapse.server_name))


def test_an_auth_checker_vouching_for_a_user_without_an_account_logs_nobody_in(setup: Setup):
    hs, server = setup.hs, setup.hs.server_name
    # Synapse 1.67 alone: 200 and an access token for @ghost, which it refuses (401) on its first use
    error = refused(hs.login_user, "ghost", f"vouch:@ghost:{server}")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    error = refused(hs.login_user, "ghost", "vouch:@ghost:elsewhere.example.org")  # another server's user
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")
    # not authenticated by the gateway, so Synapse's own password check follows, as for an ID it cannot parse
    own_password = f"vouch:@ghost:{server}"
    hs.register("keeper", password=own_password)
    assert hs.login_user("keeper", own_password).whoami()["user_id"] == f"@keeper:{server}"


def test_an_auth_checkers_user_id_logs_in_the_account_as_synapse_spells_it(setup: Setup):
    hs, server = setup.hs, setup.hs.server_name
    hs.register("carol")
    # Synapse 1.67 alone: a token for @CAROL, whom it does not know (401 on first use)
    user = hs.login_user("carol", f"vouch:@CAROL:{server}")
    assert user.user_id == f"@carol:{server}"
    assert user.whoami()["user_id"] == f"@carol:{server}"


@pytest.mark.parametrize("rewrite", [
    {"invite": "x"}, {"initial_state": {}}, {"initial_state": {"m.room.topic": {}}}, {"name": 5}, {"preset": 7},
    {"preset": []}, {"power_level_content_override": []}, {"creation_content": []}, {"room_alias_name": 5},
])
def test_a_room_creation_rewritten_with_a_field_synapse_cannot_read_follows_the_failure_policy(setup: Setup, rewrite):
    # on_create_room fails closed here (conftest's SHIM_ON_FAILURE). Synapse 1.67 alone answers 500 with a
    # traceback, or creates the room and then 400 for a field the client never sent, or takes it unread.
    user = setup.hs.register(unique("creator-"))
    error = refused(user.create_room, **{REWRITE: rewrite})
    assert (error.status, error.errcode) == (503, "M_UNKNOWN")
    assert setup.synapse.rooms_created_by(user.user_id) == []


def test_a_room_creation_rewritten_with_fields_synapse_reads_is_created_as_rewritten(setup: Setup):
    user = setup.hs.register("rewritten")
    room = user.create_room(**{REWRITE: {"name": "Named by the policy", "preset": "public_chat"}})
    assert user.state(room, "m.room.name")["name"] == "Named by the policy"
    assert user.state(room, "m.room.join_rules")["join_rule"] == "public"


def test_each_kind_of_answer_refused_is_logged_and_none_left_a_traceback_in_synapses_log(setup: Setup):
    lines = setup.synapse.log_lines()
    assert not [line for line in lines if line.startswith("Traceback")], setup.synapse.tail(200)
    # the first of each kind with its reason; the others within a minute only counted
    warnings = [line for line in lines if SHIM in line and " - WARNING - " in line]
    assert any(f"check_auth answered '@ghost:{setup.hs.server_name}', who has no account on this homeserver" in line
               for line in warnings), warnings
    assert any("on_create_room rewrote invite to \"x\", expected a list of user IDs" in line for line in warnings), \
        warnings
