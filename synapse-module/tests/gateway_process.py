"""Starts the real gateway from the packaged jar, on free ports, with a test configuration.

Maven passes the jar, the test classes (for the ``test_password`` and ``test_faulty``
module types) and the java of its JDK 25 toolchain in GATEWAY_JAR, GATEWAY_TEST_CLASSES
and GATEWAY_JAVA. Run by hand, the defaults are the build's target/ folder and the
Temurin 25 JDK.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[2]
JAVA_CANDIDATES = ["/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"]


class Gateway:
    def __init__(self, url: str, management_url: str, token: str, process: subprocess.Popen, log: Path,
                 workdir: Path, config_yaml: str) -> None:
        self.url = url
        self.management_url = management_url
        self.token = token
        self.process = process
        self.log = log
        self.workdir = workdir
        self.config_yaml = config_yaml  # the configuration it serves: the one it started with or last reloaded

    def reload(self, config_yaml: str) -> dict:
        """Replaces the configuration file and applies it at once (``POST /actuator/reload``, which
        answers loopback callers without the admin token); returns the reload's answer, a failed one
        (409) included."""
        _write_config(config_yaml, self.workdir)
        request = urllib.request.Request(self.management_url + "/actuator/reload", method="POST",
                                         headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as refused:
            with refused:
                return {"status": refused.code, "answer": refused.read().decode(errors="replace")}
        self.config_yaml = config_yaml
        return answer

    def counter(self, callback: str, outcome: str) -> float:
        """policy_decisions_total for one callback and outcome, summed over modules."""
        return self.metric("policy_decisions_total", callback=callback, outcome=outcome)

    def metric(self, name: str, **labels: str) -> float:
        """A Prometheus series from the management port, summed over the labels not given."""
        with urllib.request.urlopen(self.management_url + "/actuator/prometheus", timeout=10) as response:
            text = response.read().decode()
        wanted = [f'{label}="{value}"' for label, value in labels.items()]
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") and all(label in line for label in wanted):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The tests' JVM: a small heap, the serial collector as in the container image, and C1 only, so that
# the many short-lived gateways start fast (the serial collector saves 0.4 to 0.9 s of CPU a start).
TEST_JVM_OPTIONS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


def start(config_yaml: str, workdir: Path, token: str, timeout: float = 240,
          ports: Optional[Tuple[int, int]] = None, jvm_options: Sequence[str] = TEST_JVM_OPTIONS) -> Gateway:
    """Starts the gateway on ``ports`` (callback port, management port), free ones by default:
    a test that restarts the gateway passes the ports it had, as a restarted pod keeps its Service.
    ``jvm_options``: the tests' by default; a benchmark passes the container image's."""
    java, jar, test_classes = artifacts()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "token").write_text(token + "\n")
    config = _write_config(config_yaml, workdir)
    port, management_port = ports or (free_port(), free_port())
    log = workdir / "gateway.log"
    # PropertiesLauncher honours loader.path: the test module types are a jar-less
    # "module from another jar", found through their AutoConfiguration.imports.
    command = [java, *jvm_options, f"-Dloader.path={test_classes}",
               "-cp", str(jar), "org.springframework.boot.loader.launch.PropertiesLauncher",
               f"--server.port={port}", f"--management.server.port={management_port}",
               f"--spring.config.additional-location=file:{config}"]
    with open(log, "ab") as output:  # a restarted gateway adds to its log
        # The working directory is the test's own: no stray application.yml is picked up.
        process = subprocess.Popen(command, cwd=workdir, stdout=output, stderr=subprocess.STDOUT)
    gateway = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{management_port}", token, process, log, workdir,
                      config_yaml)
    _wait_until_ready(gateway, timeout)
    return gateway


def _write_config(config_yaml: str, workdir: Path) -> Path:
    """The configuration file, its ``TOKEN_FILE`` standing for the token file beside it."""
    config = workdir / "gateway.yml"
    config.write_text(config_yaml.replace("TOKEN_FILE", str(workdir / "token")))
    return config


def artifacts() -> Tuple[str, Path, Path]:
    """The JDK 25 java, the packaged gateway jar and the test classes (Maven passes them in
    GATEWAY_JAVA, GATEWAY_JAR and GATEWAY_TEST_CLASSES)."""
    jar = Path(os.environ.get("GATEWAY_JAR", REPO / "target" / "matrix-policy-gateway-0.1.0-SNAPSHOT.jar"))
    test_classes = Path(os.environ.get("GATEWAY_TEST_CLASSES", REPO / "target" / "test-classes"))
    java = _java()
    for path, what in ((jar, "the gateway jar (./mvnw package)"), (test_classes, "the test classes (./mvnw test-compile)")):
        if not path.exists():
            raise RuntimeError(f"{path} does not exist: build {what} first")
    return java, jar, test_classes


def run_main(main_class: str, args: List[str], stdin: Optional[str] = None,
             with_test_classes: bool = False) -> subprocess.CompletedProcess:
    """Runs ``main_class`` from the gateway jar through Spring Boot's PropertiesLauncher, as an admin
    would; ``with_test_classes`` puts the test classes on ``loader.path`` for a test main."""
    java, jar, test_classes = artifacts()
    loader_path = [f"-Dloader.path={test_classes}"] if with_test_classes else []
    command = [java, "-XX:TieredStopAtLevel=1", *loader_path, f"-Dloader.main={main_class}", "-cp", str(jar),
               "org.springframework.boot.loader.launch.PropertiesLauncher", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)


def _java() -> str:
    candidates = [os.environ.get("GATEWAY_JAVA")] + JAVA_CANDIDATES
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(os.path.join(java_home, "bin", "java"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("No JDK 25 java found: set GATEWAY_JAVA")


def free_port() -> int:
    """A loopback port nothing listens on, for a server these tests start; never the same one twice in a run.

    A port the kernel picks (bind to port 0) comes from its ephemeral range, the range it also takes
    outgoing connections' source ports from, and is free again the moment the probe closes: between
    the probe and the server's own bind, which for Synapse is seconds later, an outgoing connection
    or a suite running alongside could take it, and the server then fails with "Address already in
    use". So the ports come from just below the ephemeral range instead, from this suite's own slice
    of it (``TEST_PORT_SLICE``, ``i/n``, which RunPythonTests sets for each of the suites it runs at
    once), one after another from a place picked at random, so that two runs of the whole build on
    one machine (a developer's and a worktree's) do not hand out the same ports in the same order."""
    with _PORTS_LOCK:
        while True:
            port = next(_PORTS, None)
            if port is None:
                raise RuntimeError(f"this run has used every port of its slice, {_port_slice()}")
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue  # something else listens there, or an earlier run's connection lingers
            return port


def _port_slice() -> range:
    """Below the kernel's ephemeral range, ``PORTS_BELOW_EPHEMERAL`` ports split evenly between the
    suites that run at once; this suite's part."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768  # Linux's default; elsewhere the ports are still handed out once each
    first = max(1024, ephemeral_low - PORTS_BELOW_EPHEMERAL)
    index, count = (int(part) for part in os.environ.get("TEST_PORT_SLICE", "0/1").split("/"))
    size = (ephemeral_low - first) // count
    return range(first + index * size, first + (index + 1) * size)


PORTS_BELOW_EPHEMERAL = 12000


def _from_anywhere(ports: range) -> Iterator[int]:
    """Every port of ``ports`` once, starting at a random one and wrapping around."""
    start = random.SystemRandom().randrange(len(ports))
    return itertools.chain(ports[start:], ports[:start])


_PORTS = _from_anywhere(_port_slice())
_PORTS_LOCK = threading.Lock()


def _wait_until_ready(gateway: Gateway, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error: Optional[Exception] = None
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {gateway.process.returncode}:\n{_tail(gateway.log)}")
        try:
            with urllib.request.urlopen(gateway.management_url + "/actuator/health/readiness", timeout=2) as response:
                if json.load(response).get("status") == "UP":
                    return
        except OSError as not_yet:
            last_error = not_yet
        time.sleep(0.5)
    gateway.stop()
    raise RuntimeError(f"the gateway was not ready after {timeout}s ({last_error}):\n{_tail(gateway.log)}")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:])
