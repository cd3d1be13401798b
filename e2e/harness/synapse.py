"""A real Synapse on loopback: installed from the release tarball (or found in the
environment the admin names), configured for tests, started and stopped as a process.

Two ways to get a Synapse, in this order:

- ``SYNAPSE_PYTHON``: a Python interpreter that can ``import synapse`` (for example
  ``/opt/venvs/matrix-synapse/bin/python``). Nothing from ``../shared`` is used then;
  synapse-http-antispam is taken from that environment when it is installed there.
- otherwise the tarballs in ``SYNAPSE_TARBALLS`` (default: ``../shared/synapse`` next to the
  repository) are extracted once into ``target/e2e/`` and run with Debian's ``python3``,
  whose ``python3-*`` packages are Synapse's dependencies (the launcher installs them).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import yaml
from signedjson.key import generate_signing_key, write_signing_keys

from gateway_process import free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "target" / "e2e"
SHIM = REPO / "synapse-module"
E2E = REPO / "e2e"  # for harness.baseline_module
SYNAPSE_TARBALL = "synapse-1.67.0-src.tar.gz"
ANTISPAM_TARBALL = "synapse-http-antispam-0.5.0.tar.gz"

# Far above anything a test sends: the tests measure the gateway, not Synapse's limits.
_UNLIMITED = {"per_second": 10000, "burst_count": 100000}


class Installation:
    """Where Synapse's code lives and which interpreter runs it."""

    def __init__(self, python: str, pythonpath: List[Path], has_antispam: bool, origin: str) -> None:
        self.python = python
        self.pythonpath = pythonpath
        self.has_antispam = has_antispam
        self.origin = origin
        self.version = self._ask("import synapse; print(synapse.__version__)")

    def _ask(self, code: str) -> str:
        return subprocess.run([self.python, "-c", code], env=self.environment(), check=True,
                              capture_output=True, text=True).stdout.strip()

    def environment(self) -> Dict[str, str]:
        env = dict(os.environ)
        paths = [str(p) for p in self.pythonpath] + [env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        # Compiled once for every Synapse of the run, not at each start (most of a second of CPU), and
        # kept under target/, not in the checkout: the folder Maven's launcher names, for a run by hand too.
        env.setdefault("PYTHONPYCACHEPREFIX", str(REPO / "target" / "python-bytecode"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def run_json(self, code: str, data: Any) -> Any:
        """Runs ``code`` with Synapse's own Python and code, ``data`` as JSON on its standard input;
        returns the JSON it writes to its standard output."""
        answer = subprocess.run([self.python, "-c", code], input=json.dumps(data), capture_output=True, text=True,
                                env=self.environment(), check=True, timeout=120)
        return json.loads(answer.stdout)


def install() -> Installation:
    """Finds or installs Synapse once per test run."""
    python = os.environ.get("SYNAPSE_PYTHON")
    if python:
        probe = subprocess.run([python, "-c", "import synapse_http_antispam"], capture_output=True)
        return Installation(python, [SHIM, E2E], probe.returncode == 0, f"SYNAPSE_PYTHON={python}")
    tarballs = Path(os.environ.get("SYNAPSE_TARBALLS") or _shared_folder())
    if not (tarballs / SYNAPSE_TARBALL).exists():
        raise RuntimeError(f"No Synapse: set SYNAPSE_PYTHON to a python that can import synapse, or "
                           f"SYNAPSE_TARBALLS to a folder holding {SYNAPSE_TARBALL} ({tarballs} has none)")
    home = TARGET / "synapse-1.67.0"
    if not (home / "matrix_synapse-1.67.0.dist-info" / "METADATA").exists():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        # The "data" filter (no absolute paths, links or devices) exists from Python 3.11.4;
        # Debian 12's 3.11.2 lacks it, and its extractall trusts the archive, as it may here.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        for tarball in (SYNAPSE_TARBALL, ANTISPAM_TARBALL):
            with tarfile.open(tarballs / tarball) as archive:
                archive.extractall(home, **safe)
        _write_distribution_metadata(home)
    return Installation("/usr/bin/python3", [home, SHIM, E2E], True, f"{tarballs}/{SYNAPSE_TARBALL}")


@contextlib.contextmanager
def running(name: str, workdir: Path, modules: Optional[List[Dict[str, Any]]] = None) -> Iterator["Synapse"]:
    """A Synapse of one test module's own, started, and stopped at the end."""
    synapse = Synapse(install(), name, workdir, modules or [])
    synapse.start()
    try:
        yield synapse
    finally:
        synapse.stop()


def _shared_folder() -> Path:
    """``shared/synapse`` beside the repository, or beside one of its parent folders (a
    worktree or CI clone may sit one level deeper than the main checkout)."""
    for folder in REPO.parents:
        if (folder / "shared" / "synapse" / SYNAPSE_TARBALL).exists():
            return folder / "shared" / "synapse"
    return REPO.parent / "shared" / "synapse"


def _write_distribution_metadata(home: Path) -> None:
    """Synapse checks its own distribution and its mandatory dependencies through
    importlib.metadata at startup: the ``Requires-Dist`` lines come from its pyproject.toml,
    so that check is real against Debian's packages."""
    poetry = tomllib.loads((home / "pyproject.toml").read_text())["tool"]["poetry"]
    lines = ["Metadata-Version: 2.1", "Name: matrix-synapse", f"Version: {poetry['version']}"]
    lines += [f"Provides-Extra: {extra}" for extra in poetry["extras"]]
    for name, spec in poetry["dependencies"].items():
        if isinstance(spec, Mapping):
            if spec.get("optional") or "python" in spec:
                continue
            spec = spec["version"]
        if name != "python":
            lines.append(f"Requires-Dist: {name} ({spec.replace('^', '>=')})")
    info = home / f"matrix_synapse-{poetry['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "top_level.txt").write_text("synapse\n")


class Synapse:
    """One homeserver: its own folder, SQLite database, client port and federation port
    (TLS with a self-signed certificate, as federation requires)."""

    def __init__(self, installation: Installation, name: str, workdir: Path,
                 modules: List[Dict[str, Any]], extra: Optional[Dict[str, Any]] = None,
                 server_name: Optional[str] = None) -> None:
        self.installation = installation
        self.name = name
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.federation_port = free_port()
        self.server_name = server_name or f"127.0.0.1:{self.federation_port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "homeserver.log"
        self.console = self.dir / "console.log"
        self.registration_shared_secret = "e2e-shared-secret"
        self.modules = modules
        self.extra = extra or {}
        self.process: Optional[subprocess.Popen] = None
        self._launched = 0.0
        self._configure()

    def _configure(self) -> None:
        config = self.dir / "homeserver.yaml"
        # A folder configured before keeps its key and secrets, as --generate-config would leave them.
        generated = yaml.safe_load(config.read_text()) if config.exists() else self._generate_secrets()
        self_signed_certificate(self.dir)
        settings = {
            "server_name": self.server_name,
            "pid_file": str(self.dir / "homeserver.pid"),
            "signing_key_path": generated["signing_key_path"],
            "macaroon_secret_key": generated["macaroon_secret_key"],
            "form_secret": generated["form_secret"],
            "registration_shared_secret": self.registration_shared_secret,
            "report_stats": False,
            "listeners": [
                {"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                 "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]},
                {"port": self.federation_port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": True,
                 "resources": [{"names": ["federation", "keys"], "compress": False}]},
            ],
            "tls_certificate_path": str(self.dir / "tls.crt"),
            "tls_private_key_path": str(self.dir / "tls.key"),
            "federation_verify_certificates": False,
            "ip_range_blacklist": [],
            "federation_ip_range_blacklist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "database": {"name": "sqlite3", "args": {"database": str(self.dir / "homeserver.db")}},
            "media_store_path": str(self.dir / "media_store"),
            "log_config": str(self._log_config()),
            "enable_registration": True,
            "enable_registration_without_verification": True,
            "presence": {"enabled": True},
            "user_directory": {"enabled": True, "search_all_users": True},
            "use_insecure_ssl_client_just_for_testing_do_not_use": True,
            "enable_3pid_lookup": True,
            "rc_message": _UNLIMITED,
            "rc_registration": _UNLIMITED,
            "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
            "rc_admin_redaction": _UNLIMITED,
            "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
            "rc_joins_per_room": _UNLIMITED,
            "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
            "rc_third_party_invite": _UNLIMITED,
            "rc_3pid_validation": _UNLIMITED,
            "rc_key_requests": _UNLIMITED,
            "rc_federation": {"window_size": 1000, "sleep_limit": 10000, "sleep_delay": 1,
                              "reject_limit": 10000, "concurrent": 100},
            # Our module pauses before each background update batch as Synapse's own controller does
            # (sleep_duration_ms, 1 s by default): shortened here so that a new database's updates end
            # within seconds of the start, before the tests that need the gateway idle.
            "background_updates": {"sleep_duration_ms": 100},
            "modules": self.modules,
        }
        settings.update(self.extra)
        config.write_text(yaml.safe_dump(settings, sort_keys=False))
        self.config_path = config

    def _generate_secrets(self) -> Dict[str, str]:
        """What the settings below take from ``synapse.app.homeserver --generate-config``: a signing key
        (written as Synapse writes it, with signedjson) and two secrets, made here rather than by that
        command, which imports all of Synapse for them (2.2 s of CPU, for each of the run's dozen Synapses)."""
        signing_key = self.dir / "signing.key"
        with open(signing_key, "w") as out:
            write_signing_keys(out, [generate_signing_key("a_" + secrets.token_hex(2))])
        return {"signing_key_path": str(signing_key), "macaroon_secret_key": secrets.token_urlsafe(36),
                "form_secret": secrets.token_urlsafe(36)}

    def _log_config(self) -> Path:
        path = self.dir / "log.yaml"
        path.write_text(yaml.safe_dump({
            "version": 1,
            "formatters": {"precise": {"format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                                                 "%(request)s - %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "precise",
                                  "filename": str(self.log), "filters": ["context"]}},
            "filters": {"context": {"()": "synapse.logging.context.LoggingContextFilter", "request": ""}},
            "loggers": {"synapse.storage.SQL": {"level": "INFO"}, "twisted": {"level": "WARNING"}},
            "root": {"level": "INFO", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }))
        return path

    # ---- process

    def start(self, timeout: float = 120) -> float:
        """Starts Synapse; returns the seconds until its client API answered."""
        self.launch()
        return self.wait_until_answering(timeout)

    def launch(self) -> None:
        """Starts Synapse's process without waiting for it: several start at once, then each is
        waited for (``wait_until_answering``)."""
        self._launched = time.monotonic()
        with open(self.console, "ab") as console:
            self.process = subprocess.Popen(
                [self.installation.python, "-m", "synapse.app.homeserver", "--config-path", str(self.config_path)],
                cwd=self.dir, env=self.installation.environment(), stdout=console, stderr=subprocess.STDOUT)

    def wait_until_answering(self, timeout: float = 120) -> float:
        """Seconds from ``launch`` until the client API answered; raises if it exits or does not answer."""
        began = self._launched
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse {self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/_matrix/client/versions", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - began
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"Synapse {self.name} did not answer within {timeout}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def pdu(self, event_id: str) -> Tuple[str, Dict[str, Any]]:
        """An event as Synapse stored it (its PDU JSON, from the ``event_json`` table) and its
        room's version (``rooms.room_version``)."""
        rows = self._query("SELECT rooms.room_version, event_json.json FROM event_json JOIN rooms USING (room_id) "
                           "WHERE event_json.event_id = ?", event_id)
        if not rows:
            raise KeyError(f"Synapse {self.name} has not stored {event_id}")
        return rows[0][0], json.loads(rows[0][1])

    def rooms_created_by(self, user_id: str) -> List[str]:
        """The rooms Synapse has stored with ``user_id`` as their creator (the ``rooms`` table)."""
        return sorted(row[0] for row in self._query("SELECT room_id FROM rooms WHERE creator = ?", user_id))

    def _query(self, sql: str, *args: Any) -> List[Tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.dir / 'homeserver.db'}?mode=ro", uri=True)) as db:
            return db.execute(sql, args).fetchall()

    def log_lines(self) -> List[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []

    def tail(self, lines: int = 60) -> str:
        text = self.console.read_text(errors="replace").splitlines() if self.console.exists() else []
        return "\n".join((text + self.log_lines())[-lines:])


def self_signed_certificate(directory: Path) -> None:
    """Federation listens on TLS only; peers here skip verification
    (``federation_verify_certificates: false``), so a self-signed certificate serves."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    (directory / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                                          serialization.NoEncryption()))
