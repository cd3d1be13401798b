"""The hostile clients of ``bench/soak.py --hostile``: Python stdlib only (threads and raw sockets).

Beside the soak's paced load they run on all three ports the whole time: the policy API, the policy
server's listener and the management port. Each kind of client loops on each port and counts how its
tries ended (an answer's status, or what became of the connection):

- ``drip_head``: connections sending their request line and headers a byte a second;
- ``drip_body``: whole heads, then the body a byte a second, a quarter of them stopping after 10 bytes;
- ``cut_half_close`` and ``cut_reset``: half the declared body, then a half-close (FIN) or a reset (RST);
- ``pipelined``: five requests in one write (valid, malformed JSON, valid, empty, valid and ``close``);
- ``oversized``: 2 MiB declared, 256 KiB sent, or 2 MiB chunked with no length;
- ``malformed``: whole bodies that are no JSON, deeply nested, invalid UTF-8, or no object;
- ``flood``: every minute, as many connections as the policy server's bound and more, silent for 10 s;
- ``idle``: connections opened and left silent, reopened when the gateway closes them.

The stand-in homeserver (``src/bench/.../PolicyServerFixtures.java``, run as a source file on the
jar's classes) signs requests beforehand and serves its key: ``SignedHomeserver`` replays them, a
new event each time at twice the policy server's rate limit, and one remembered event, as a
legitimate homeserver would (its answers: 200 signed, 429 past the limit).
"""

from __future__ import annotations

import base64
import collections
import http.client
import os
import random
import re
import select
import socket
import struct
import subprocess
import threading
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOMESERVER, POLICY_SERVER, ROOM = "hs.bench", "policy.bench", "!bench:hs.bench"  # PolicyServerFixtures' names
DISTINCT = 5000  # events the stand-in homeserver signs; the answer cache holds fewer, so each one is new
RATE_LIMIT = {"capacity": 100, "period": "10s"}  # 10 new events a second per homeserver
SIGNED_RATE = 20  # new events a second the stand-in homeserver asks about: twice its limit
POLICY_SERVER_BOUNDS = {"max-connections": 256, "max-requests-in-progress": 64}


class Target:
    """One port under attack: how a request to it looks, valid or not."""

    def __init__(self, name: str, port: int, path: str, headers: dict, body: bytes, lines: list | None = None,
                 drips: int = 20) -> None:
        self.name, self.port, self.path, self.headers, self.body, self.lines = name, port, path, headers, body, lines
        self.drips = drips  # connections dripping their heads (half as many their bodies)

    def valid(self) -> tuple[str, dict, bytes]:
        """A request the target answers in full (on the policy server: a signed one, new or remembered)."""
        if self.lines:
            path, authorization, body = random.choice(self.lines)
            return path, {"Authorization": authorization}, body
        return self.path, self.headers, self.body

    def head(self, body_length: int | None, *, close: bool = False, headers: dict | None = None,
             path: str | None = None) -> bytes:
        fields = {"Host": "127.0.0.1", "Content-Type": "application/json", **(headers or self.headers)}
        fields |= {"Content-Length": str(body_length)} if body_length is not None else {"Transfer-Encoding": "chunked"}
        fields |= {"Connection": "close"} if close else {}
        return (f"POST {path or self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
                + "\r\n").encode()

    def request(self, body: bytes, *, close: bool = False) -> bytes:
        """A whole request with this body and the target's usual head (a bad signature for another body)."""
        return self.head(len(body), close=close) + body


class Hostile:
    """Every hostile client on every target, started together, stopped together, counted."""

    def __init__(self, targets: list[Target]) -> None:
        self.targets = targets
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
        self.threads: list[threading.Thread] = []

    def count(self, kind: str, target: Target, outcome: str, n: int = 1) -> None:
        with self.lock:
            self.counts[(kind, target.name)][outcome] += n

    def start(self) -> None:
        for target in self.targets:
            self.spawn(self.drip, "drip_head", target, target.drips, self.dripped_head)
            self.spawn(self.drip, "drip_body", target, target.drips // 2, self.dripped_body)
            for kind in ("cut_half_close", "cut_reset", "pipelined", "oversized", "malformed"):
                self.spawn(self.repeat, kind, target, getattr(self, kind))
            self.spawn(self.flood, "flood", target)
            self.spawn(self.idle, "idle", target)

    def spawn(self, run, *args) -> None:
        thread = threading.Thread(target=run, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    # The loops.

    def repeat(self, kind: str, target: Target, once) -> None:
        while not self.stop.wait(0.2):
            try:
                once(target)
            except OSError as error:
                self.count(kind, target, failure(error))

    def drip(self, kind: str, target: Target, count: int, make) -> None:
        """Keeps ``count`` connections sending what ``make`` gives a byte a second; each answer or close is counted."""
        dripping: list[list] = []  # [socket, bytes left to drip, stall when this many are left, then at once]
        while not self.stop.wait(1):
            while len(dripping) < count and not self.stop.is_set():
                try:
                    sock = connect(target)
                    at_once, slowly, stall, then = make(target)
                    sock.sendall(at_once)
                    dripping.append([sock, slowly, stall, then])
                except OSError as error:
                    self.count(kind, target, failure(error))
                    break
            poll = select.poll()
            for entry in dripping:
                poll.register(entry[0], select.POLLIN)
            ready = {fd for fd, _ in poll.poll(0)}
            for entry in list(dripping):
                sock, slowly, stall, then = entry
                outcome = None
                if sock.fileno() in ready:
                    outcome = answer(sock, 2)
                elif slowly and not (stall and len(slowly) <= stall):
                    try:
                        sock.send(slowly[:1])
                        entry[1] = slowly[1:]
                        if not entry[1] and then:
                            sock.sendall(then)
                    except OSError as error:
                        outcome = failure(error)
                if outcome:
                    self.count(kind, target, outcome)
                    sock.close()
                    dripping.remove(entry)
        for entry in dripping:
            entry[0].close()

    def dripped_head(self, target: Target):
        path, headers, body = target.valid()
        return b"", target.head(len(body), headers=headers, path=path), 0, body

    def dripped_body(self, target: Target):
        path, headers, body = target.valid()
        # A quarter stop after 10 bytes of the body and wait: the gateway's read timeout ends them.
        return target.head(len(body), headers=headers, path=path), body, (len(body) - 10 if random.random() < 0.25 else 0), b""

    def cut_half_close(self, target: Target) -> None:
        path, headers, body = target.valid()
        with connect(target) as sock:
            sock.sendall(target.head(len(body), headers=headers, path=path) + body[:len(body) // 2])
            sock.shutdown(socket.SHUT_WR)
            self.count("cut_half_close", target, answer(sock, 30))

    def cut_reset(self, target: Target) -> None:
        path, headers, body = target.valid()
        sock = connect(target)
        sock.sendall(target.head(len(body), headers=headers, path=path) + body[:len(body) // 2])
        time.sleep(0.05)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # an RST, no answer to read
        self.count("cut_reset", target, "reset sent")

    def pipelined(self, target: Target) -> None:
        requests = [target.request(target.body), target.request(b'{"inviter": '), target.request(target.body),
                    target.request(b""), target.request(target.body, close=True)]
        with connect(target) as sock:
            sock.sendall(b"".join(requests))
            statuses = [status.decode() for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", read_all(sock, 30))]
        for status in statuses:
            self.count("pipelined", target, status)
        if len(statuses) < len(requests):
            self.count("pipelined", target, "unanswered", len(requests) - len(statuses))

    def oversized(self, target: Target) -> None:
        chunked = random.random() < 0.5
        with connect(target) as sock:
            try:
                if chunked:
                    sock.sendall(target.head(None))
                    for _ in range(32):
                        sock.sendall(b"10000\r\n" + b"[" * 65536 + b"\r\n")
                else:
                    sock.sendall(target.head(2 * 1024 * 1024) + b'{"a": "' + b"x" * 256 * 1024)
            except OSError:
                pass  # the gateway may answer and close before all is sent: the answer is still there
            self.count("oversized", target, answer(sock, 30))

    MALFORMED = [b"{not json", b'{"inviter": "@a:b", "invitee": ', b"[" * 10000 + b"]" * 10000, b'{"a": "\xff\xfe"}',
                 b"null", b"12345678901234567890123456789", b'{"a": 1}{"b": 2}', b"\x00" * 64]

    def malformed(self, target: Target) -> None:
        with connect(target) as sock:
            sock.sendall(target.request(random.choice(self.MALFORMED), close=True))
            self.count("malformed", target, answer(sock, 30))

    def flood(self, kind: str, target: Target) -> None:
        """Every minute, connections past the policy server's bound, opened at once and silent for 10 s."""
        while not self.stop.wait(50):
            opened = []
            for _ in range(POLICY_SERVER_BOUNDS["max-connections"] + 150):
                try:
                    opened.append(connect(target, timeout=3))
                except OSError as error:
                    self.count(kind, target, "connect " + failure(error))
            self.count(kind, target, "opened", len(opened))
            self.stop.wait(10)
            self.count(kind, target, "closed by the gateway", sum(1 for sock in opened if closed(sock)))
            for sock in opened:
                sock.close()

    def idle(self, kind: str, target: Target) -> None:
        """30 silent connections, each reopened once the gateway closes it."""
        held: list[socket.socket] = []
        while not self.stop.wait(5):
            for sock in [sock for sock in held if closed(sock)]:
                self.count(kind, target, "closed by the gateway")
                sock.close()
                held.remove(sock)
            while len(held) < 30:
                try:
                    held.append(connect(target))
                    self.count(kind, target, "opened")
                except OSError as error:
                    self.count(kind, target, "connect " + failure(error))
                    break
        for sock in held:
            sock.close()


class SignedHomeserver:
    """The stand-in homeserver: its key served, its signed requests replayed, their answers counted."""

    def __init__(self, java: str, jar: str, folder: Path, port: int, policy_port: int) -> None:
        classes = folder / "jar"
        with zipfile.ZipFile(jar) as archive:  # the fixtures run on the jar's own classes and libraries
            archive.extractall(classes, [n for n in archive.namelist() if n.startswith(("BOOT-INF/classes/", "BOOT-INF/lib/"))])
        self.log = folder / "homeserver.log"
        self.process = subprocess.Popen(
            [java, "-cp", f"{classes}/BOOT-INF/classes:{classes}/BOOT-INF/lib/*",
             str(REPO / "src/bench/java/dev/matrixpolicy/bench/PolicyServerFixtures.java"), str(folder / "fixtures"),
             str(DISTINCT), str(port)], stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while "ready" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the stand-in homeserver did not start: see {self.log}")
            time.sleep(0.2)
        self.distinct = read_lines(folder / "fixtures" / "distinct.tsv")
        self.repeated = read_lines(folder / "fixtures" / "repeated.tsv")
        self.policy_port = policy_port
        self.statuses: collections.Counter = collections.Counter()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for lines, rate in ((self.distinct, SIGNED_RATE), (self.repeated, 5)):
            thread = threading.Thread(target=self.replay, args=(lines, rate), daemon=True)
            thread.start()
            self.threads.append(thread)

    def replay(self, lines: list, rate: float) -> None:
        connection, n = None, 0
        while not self.stop.wait(random.expovariate(rate)):
            path, authorization, body = lines[n % len(lines)]
            n += 1
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", self.policy_port, timeout=35)
                connection.request("POST", path, body, {"Authorization": authorization, "Content-Type": "application/json"})
                response = connection.getresponse()
                answer_body = response.read()
                signed = response.status == 200 and POLICY_SERVER.encode() in answer_body
                limited = response.status == 429 and b"M_LIMIT_EXCEEDED" in answer_body
                self.statuses[f"{response.status}{' signed' if signed else ''}{' M_LIMIT_EXCEEDED' if limited else ''}"] += 1
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                self.statuses[f"connection: {type(error).__name__}"] += 1
                if connection:
                    connection.close()
                connection = None

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.process.terminate()
        self.process.wait(timeout=30)


def policy_server_config(folder: Path, port: int, homeserver_port: int) -> dict:
    """The policy server's settings for the soak, its key written beside them."""
    key = folder / "policy_server.key"
    key.write_text("ed25519 policy_server " + base64.b64encode(os.urandom(32)).decode().rstrip("=") + "\n")
    key.chmod(0o600)
    return {"enabled": True, "name": POLICY_SERVER, "port": port, "key-file": str(key),
            "rooms": [{"id": ROOM, "version": "10"}], "signature-cache-size": DISTINCT // 5, "rate-limit": RATE_LIMIT,
            "servers": [{"name": HOMESERVER, "address": f"http://127.0.0.1:{homeserver_port}"}], **POLICY_SERVER_BOUNDS}


def targets(api: int, management: int, policy: int, token: str, homeserver: SignedHomeserver) -> list[Target]:
    invite = b'{"inviter": "@hostile:example.com", "invitee": "@bob:example.org", "room_id": "!r:example.com"}'
    path, authorization, body = homeserver.distinct[0]
    # Bodies not those signed: a signature that does not verify, once the body is read (401).
    bad_signature = {"Authorization": re.sub(r'sig="[^"]*"', 'sig="AAAA"', authorization)}
    return [Target("policy API", api, "/v1/spam_checker/user_may_invite", {"Authorization": f"Bearer {token}"}, invite),
            # More dripping requests than the policy server's places for requests in progress.
            Target("policy server", policy, path, bad_signature, body, homeserver.distinct, drips=80),
            Target("management", management, "/actuator/health", {}, b"{}")]


def read_lines(file: Path) -> list[tuple[str, str, bytes]]:
    lines = []
    for line in file.read_text().splitlines():
        path, authorization, body = line.split("\t", 2)
        lines.append((path, authorization, body.encode()))
    return lines


def connect(target: Target, timeout: float = 5) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", target.port), timeout=timeout)
    sock.settimeout(30)
    return sock


def answer(sock: socket.socket, timeout: float) -> str:
    """The status of the first answer on the connection, or how it ended without one."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return "closed unanswered" if not data else "answer cut short"
            data += chunk
    except OSError as error:
        return failure(error)
    status = re.match(rb"HTTP/1\.1 (\d{3})", data)
    return status.group(1).decode() if status else "not HTTP"


def read_all(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


def closed(sock: socket.socket) -> bool:
    """Whether the gateway closed the connection, or answered on it unasked (it closes it then), without waiting."""
    try:
        sock.setblocking(False)
        sock.recv(1, socket.MSG_PEEK)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def failure(error: OSError) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(error, ConnectionResetError):
        return "reset by the gateway"
    if isinstance(error, BrokenPipeError):
        return "closed by the gateway"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    return type(error).__name__
