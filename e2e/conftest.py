"""Session fixtures: the services, the gateway (packaged jar), Synapse "A" with our module and
Synapse "B" with synapse-http-antispam, federating with each other over TLS on loopback."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "synapse-module"))
sys.path.insert(0, str(REPO / "synapse-module" / "tests"))

import bcrypt  # noqa: E402  (one of the harness's own tools: RunPythonTests.java E2E_TOOLS)

import gateway_process  # noqa: E402
from harness import synapse as homeservers  # noqa: E402
from harness.client import Homeserver  # noqa: E402
from harness.report import Report  # noqa: E402
from harness.services import Services  # noqa: E402
from matrix_policy_gateway_shim.callbacks import ALL  # noqa: E402

TOKEN = "e2e-gateway-token"
FILED_PASSWORD = "password from the gateway's file"

# Callbacks Synapse 1.67 cannot call: the first release that can (e2e/README.md says where they
# are tested instead).
NOT_IN_SYNAPSE_1_67 = {
    "on_add_user_third_party_identifier": "added in Synapse 1.79",
    "on_remove_user_third_party_identifier": "added in Synapse 1.79",
    "check_login_for_spam": "added in Synapse 1.87",
    "add_field_to_unsigned": "added in Synapse 1.96",
    "on_user_login": "added in Synapse 1.98",
    "user_may_send_state_event": "added in Synapse 1.132",
    "federated_user_may_invite": "added in Synapse 1.134",
    "get_media_config_for_user": "added in Synapse 1.132",
    "is_user_allowed_to_upload_media_of_size": "added in Synapse 1.132",
    "get_ratelimit_override_for_user": "added in Synapse 1.132",
    "get_media_upload_limits_for_user": "added in Synapse 1.139",
    "on_media_upload_limit_exceeded": "added in Synapse 1.139",
}

# Our module: fail-closed by default, fail-open where a gateway outage must not stop the
# homeserver (every request checks is_user_expired; every message check_event_*).
SHIM_ON_FAILURE = {
    "default": "fail-closed",
    "check_event_for_spam": "fail-open",
    "check_event_allowed": "fail-open",
    "is_user_expired": "fail-open",
    "check_registration_for_spam": "fail-open",
}

# synapse-http-antispam on Synapse 1.67: the callbacks that module can serve there (the README's
# example for this version).
ANTISPAM_CALLBACKS = ["user_may_invite", "user_may_send_3pid_invite", "user_may_join_room",
                      "user_may_create_room", "user_may_publish_room", "check_event_for_spam"]

POLICY_SERVICE_CALLBACKS = [
    "user_may_send_3pid_invite", "user_may_create_room_alias", "user_may_publish_room",
    "check_username_for_spam", "check_registration_for_spam", "check_media_file_for_spam",
    "should_drop_federated_event", "check_threepid_can_be_invited", "check_visibility_can_be_modified",
    "check_can_shutdown_room", "check_can_deactivate_user", "on_create_room", "check_3pid_auth",
    "get_username_for_registration", "get_displayname_for_registration", "is_user_expired",
]


def gateway_config(server_name: str, services: Services, extra_modules: str = "") -> str:
    filed_hash = bcrypt.hashpw(FILED_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    callbacks = "\n".join(f"            - {name}" for name in POLICY_SERVICE_CALLBACKS)
    return gateway_yaml(server_name, f"""
    - module: user_denylist
      name: spammers
      config:
        users: ["@spammer-*"]
        error: Spammers are not welcome here
    - module: user_denylist
      name: noisy-senders
      config:
        users: ["@noisy-*"]
        callbacks: [check_event_for_spam]
    - module: password_file
      name: passwords
      config:
        users:
          filed: "{filed_hash}"
    - module: event_censor
      name: censor
      config:
        endpoint: {services.url}/censor
    - module: threepid_checker
      name: directory
      config:
        url: {services.url}/3pid
        cache-ttl: 0s
    - module: presence_router
      name: presence
      config:
        routes:
          - receivers: ["@watcher:{server_name}"]
            sources: ["@watched:{server_name}"]
    - module: http
      name: policy-service
      config:
        url: {services.url}/policy
        callbacks:
{callbacks}
    - module: static
      name: background-pacing
      config:
        results:
          on_update: 50
          default_batch_size: 2       # small batches: an update takes several, so min_batch_size is asked
          min_batch_size: 1
    - module: audit_webhook
      name: audit
      config:
        url: {services.url}/audit
{extra_modules}
logging:
  level:
    dev.matrixpolicy.gateway.decisions: INFO
spring:
  lifecycle:
    # Stopping waits for the Synapses' idle keep-alive connections for up to this long (20 s in
    # production, proven by ConnectionDrainIT): here a stop is an outage or a restart, not a drain.
    timeout-per-shutdown-phase: 2s
""")


def gateway_yaml(server_name: str, modules: str) -> str:
    """A gateway's configuration for ``server_name``, with the suite's token (``gateway_process.start``
    writes TOKEN_FILE): ``modules``, the entries of its ``modules`` list indented by four spaces, and
    whatever top-level keys follow them."""
    return f"""
policy-gateway:
  server-name: "{server_name}"
  auth:
    token-file: TOKEN_FILE
  modules:{modules}"""


def shim_module(gateway_url: str, **on_failure: str) -> Dict[str, Any]:
    """Our module's entry; ``on_failure`` overrides callbacks' policies of SHIM_ON_FAILURE."""
    return {"module": "matrix_policy_gateway_shim.PolicyGatewayModule",
            "config": {"base_url": gateway_url, "token": TOKEN, "timeout": "10s",
                       "on_failure": {**SHIM_ON_FAILURE, **on_failure},
                       "startup": {"discovery_timeout": "5s", "retry_interval": "2s"}}}


def antispam_module(gateway_url: str) -> Dict[str, Any]:
    return {"module": "synapse_http_antispam.HTTPAntispam",
            "config": {"base_url": gateway_url + "/v1/spam_checker", "authorization": TOKEN,
                       "enabled_callbacks": ANTISPAM_CALLBACKS}}


class World:
    """Everything the tests drive. The gateway can be stopped and started again on the same
    ports (as a pod behind its Service) while both Synapses keep running."""

    def __init__(self, workdir: Path, report: Report) -> None:
        self.workdir = workdir
        self.report = report
        self.installation = homeservers.install()
        homeservers.self_signed_certificate(workdir / "identity")
        self.services = Services(workdir / "identity" / "tls.crt", workdir / "identity" / "tls.key")
        self.gateway_ports = (gateway_process.free_port(), gateway_process.free_port())
        self.gateway_url = f"http://127.0.0.1:{self.gateway_ports[0]}"
        self.gateway: Optional[gateway_process.Gateway] = None
        # Phone numbers are validated through an identity server: ours stands in for one.
        delegates = {"account_threepid_delegates": {"msisdn": f"https://{self.services.identity_server}"}}
        self.a = homeservers.Synapse(self.installation, "A", workdir / "synapse-a", [shim_module(self.gateway_url)],
                                     delegates)
        # B also serves as A's federation peer, so it runs without the module where it is missing.
        antispam = [antispam_module(self.gateway_url)] if self.installation.has_antispam else []
        self.b = homeservers.Synapse(self.installation, "B", workdir / "synapse-b", antispam)
        self.services.server_name = self.a.server_name
        self._extra_modules = ""
        self._config = gateway_config(self.a.server_name, self.services)
        self.extra: List[homeservers.Synapse] = []

    @property
    def hs_a(self) -> Homeserver:
        return Homeserver(self.a.url, self.a.server_name)

    @property
    def hs_b(self) -> Homeserver:
        return Homeserver(self.b.url, self.b.server_name)

    def add_gateway_modules(self, modules_yaml: str) -> None:
        """Appends entries to the gateway's ``modules`` list and applies them with a reload, as an
        admin would: no restart. Later restarts keep them."""
        self._extra_modules += modules_yaml
        self._config = gateway_config(self.a.server_name, self.services, self._extra_modules)
        assert self.gateway is not None, "the gateway is stopped: start it first"
        answer = self.gateway.reload(self._config)
        assert answer.get("result") == "reloaded", answer

    def start_gateway(self) -> None:
        self.gateway = gateway_process.start(self._config, self.workdir / "gateway", TOKEN, ports=self.gateway_ports)

    def stop_gateway(self) -> None:
        if self.gateway is not None:
            self.report.read_gateway_metrics(self.gateway.management_url)
            self.gateway.stop()
            self.gateway = None

    def homeserver(self, name: str, modules: List[Dict[str, Any]], **kwargs: Any) -> homeservers.Synapse:
        """Another Synapse for one test, stopped at the end of the session."""
        synapse = homeservers.Synapse(self.installation, name, self.workdir / f"synapse-{name.lower()}", modules,
                                      **kwargs)
        self.extra.append(synapse)
        return synapse

    def close(self) -> None:
        for synapse in [self.a, self.b] + self.extra:
            synapse.stop()
        self.stop_gateway()
        self.services.close()


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "idle_gap_begins: the last checks before the idle gap (test_6)")
    config.addinivalue_line("markers", "idle_gap_ends: the first checks after the idle gap (test_6)")


def pytest_collection_modifyitems(config: Any, items: List[pytest.Item]) -> None:
    """The idle gap of test_6 (over a minute with no request from either Synapse module) overlaps
    the tests that need neither Synapse A nor B nor the session's gateway: those run after its
    beginning and before its end, the others after it, each group in its usual order."""
    begins = [item for item in items if item.get_closest_marker("idle_gap_begins")]
    ends = [item for item in items if item.get_closest_marker("idle_gap_ends")]
    independent = [item for item in items
                   if "world" not in getattr(item, "fixturenames", ()) and item not in begins + ends]
    rest = [item for item in items if item not in begins + ends + independent]
    items[:] = begins + independent + ends + rest


_report = Report()


@pytest.fixture(scope="session")
def report() -> Report:
    return _report


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, report: Report) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("e2e"), report)
    try:
        world.start_gateway()
        report.note(f"Synapse {world.installation.version} from {world.installation.origin}, run by "
                    f"`{world.installation.python}`; working folder `{world.workdir}`.")
        report.note("")
        for synapse in (world.a, world.b):
            synapse.launch()  # at once: each waits on its own Python start as much as on the CPU
        for synapse, module in ((world.a, "matrix_policy_gateway_shim"), (world.b, "synapse_http_antispam")):
            started = synapse.wait_until_answering()
            report.note(f"- Synapse {synapse.name} ({synapse.server_name}, client port {synapse.port}) with "
                        f"{module}: answering after {started:.1f} s, started together")
            if synapse is world.a:
                for line in synapse.log_lines():
                    if module in line and ("Registered" in line or "has modules for" in line):
                        report.note(f"  - {line.split(' - ')[-1]}")
            elif world.installation.has_antispam:
                report.note(f"  - enabled_callbacks: {', '.join(ANTISPAM_CALLBACKS)}")
            else:
                report.note("  - not installed in SYNAPSE_PYTHON's environment: B runs without it")
        yield world
    finally:
        world.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    every = [(callback.category, callback.name) for callback in ALL]
    text = _report.render(every, NOT_IN_SYNAPSE_1_67)
    _report.write(REPO / "target" / "e2e" / "report.md", text)
    if exitstatus == 0 and config.getoption("verbose") < 0:
        # A quiet run that passed (-q, as Maven runs it) names the report; a failure prints it.
        terminalreporter.write_line("end-to-end report: target/e2e/report.md")
        return
    terminalreporter.write_sep("=", "end-to-end report (also in target/e2e/report.md)")
    terminalreporter.write_line(text)
