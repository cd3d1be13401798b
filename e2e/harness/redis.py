"""A real ``redis-server`` (Debian's package) on a free loopback port, for the gateway's shared state:
installed with apt-get when missing (as root, or through ``sudo -n``), as the Java tests'
``RedisServer`` does. Where installing fails the test fails; it never skips."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, List

from gateway_process import free_port, stop_process

REDIS_SERVER = Path("/usr/bin/redis-server")
REDIS_CLI = Path("/usr/bin/redis-cli")


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}"

    def command(self, *args: str) -> List[str]:
        """One command through ``redis-cli``; its answer's lines (``--raw``)."""
        answer = subprocess.run([str(REDIS_CLI), "-h", "127.0.0.1", "-p", str(self.port), "--raw", *args],
                                capture_output=True, text=True, check=True, timeout=10)
        return answer.stdout.splitlines()

    def hash(self, key: str) -> dict:
        fields = self.command("HGETALL", key)
        return dict(zip(fields[::2], fields[1::2]))


@contextlib.contextmanager
def running(workdir: Path) -> Iterator[Redis]:
    """A Redis for one test module, without persistence, stopped at the end."""
    _require(workdir / "redis-install.log")
    workdir.mkdir(parents=True, exist_ok=True)
    redis = Redis(free_port())
    with open(workdir / "redis.log", "ab") as log:
        process = subprocess.Popen([str(REDIS_SERVER), "--port", str(redis.port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not _answers_ping(redis.port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {redis.port}; see {workdir / 'redis.log'}")
            time.sleep(0.05)
        yield redis
    finally:
        stop_process(process)


def _require(install_log: Path) -> None:
    if all(os.access(program, os.X_OK) for program in (REDIS_SERVER, REDIS_CLI)):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    apt = sudo + ["apt-get", "-o", "DPkg::Lock::Timeout=300"]
    install_log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with open(install_log, "ab") as log:
        for command in (apt + ["update", "-qq"], apt + ["install", "-y", "-qq", "redis-server", "redis-tools"]):
            if shutil.which(command[0]) is None or subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                                                  env=env).returncode != 0:
                break
    if not all(os.access(program, os.X_OK) for program in (REDIS_SERVER, REDIS_CLI)):
        raise RuntimeError(f"These tests need Debian's redis-server and redis-tools, and installing them failed "
                           f"(apt-get as root or through sudo -n; output in {install_log}). "
                           f"Install them: apt-get install redis-server redis-tools")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(7) == b"+PONG\r\n"
    except OSError:
        return False
