#!/usr/bin/env python3
"""bench/policy-server-burst.sh's tool: hostile federation traffic on the policy server's listener, one
phase after another, while steady streams are timed: policy API requests (the homeserver's path) and an
honest homeserver's ``/sign`` requests to the listener itself.

    policy_server_burst.py config --federation-port P --key-port K --silent-port S --key-file F   gateway config (JSON) to stdout
    policy_server_burst.py keyservers --key-port K --silent-port S    the stand-in key servers, until killed
    policy_server_burst.py run --pid PID --api-port A --management-port M --federation-port P [--smoke]
                                                                      every phase; one JSON line each, to stdout
    policy_server_burst.py attack PHASE --federation-port P ...       one phase's traffic (run starts it), a JSON line
    policy_server_burst.py report RESULTS.jsonl                       the phases as a Markdown table, to stdout

The key servers: ``good.bench``'s and ``honest.bench``'s, which answer ``GET /_matrix/key/v2/server``
with their self-signed keys (on the same port, at 127.0.0.1 and 127.0.0.2: the gateway's request names
neither), and a socket that accepts connections and never answers, where the ``slow<i>.bench`` names
point (``servers`` in the config). The phases, each with the streams running:

- ``baseline``: nothing else;
- ``headers``: N connections whose request line and headers come a byte every few seconds, within
  Tomcat's connection timeout (more than the listener's default ``max-connections``);
- ``body-never-sent``: N connections that send their headers with a ``Content-Length`` and no body;
- ``body-stalled``: connections that send all but 1,000 bytes of a 128 KiB body, then a byte at a time;
- ``new-names``: ``/sign`` requests from origins never seen before (``o<i>.burst.invalid``: each a key
  fetch, none resolves);
- ``slow-origins``: ``/sign`` requests from origins whose key server never answers;
- ``rate-limit``: distinct, validly signed events from one origin (``good.bench``), past its rate limit;
- ``big-bodies``: unsigned bodies of exactly 128 KiB (the limit) and of 256 KiB.

The honest homeserver is ``honest.bench``, an origin of its own (never rate limited by the rate-limit
phase's requests), sending validly signed ``/sign`` requests of new events and waiting 30 s for each, as
Synapse does: on 2 connections kept open, each every 100 ms, as Synapse reuses its connections, and on a
new connection each time, 2 clients every 500 ms, as a homeserver that must connect now. About 24 a
second in all, a quarter of its rate limit.

The attack runs in a process of its own, so that it does not share an interpreter with the timing.
Every phase reports, for each stream, its answers' p50/p99/max and its errors by kind (connect failed,
closed without an answer, timeout, HTTP status); the gateway's highest RSS, threads, heap used and open
files (sampled every half second); what the attacking clients were answered; the listener's own count of
answers by outcome (``policy_server_requests_seconds_count``); the most connections and requests in
progress it held (``policy_server_connections``, ``policy_server_requests_in_progress``), the requests in
progress left once the streams have stopped, and the connections it closed to keep its requests in
progress within their limit (``policy_connections_closed_total{listener="policy_server"}``, by reason).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import itertools
import http.client
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

TOKEN = "bench-token"
NAME = "policy.bench"               # the policy server's name: the destination requests are signed for
ROOM = "!burst:hs.bench"
GOOD = "good.bench"                 # the origin whose key server answers, and which the rate-limit phase uses up
HONEST = "honest.bench"             # the honest stream's origin, its key server at KEY_HOSTS[HONEST]
SLOW_NAMES = 64                     # slow<i>.bench, whose key server never answers: more than the 24 fetch slots for new servers
SIGN = "/_matrix/policy/v1/sign"
LIMIT = 128 * 1024                  # the listener's body limit
TIMEOUT = 30                        # seconds: Synapse's timeout for a policy server's answer
PHASES = ["baseline", "headers", "body-never-sent", "body-stalled", "new-names", "slow-origins", "rate-limit", "big-bodies"]

# What each phase sends: connections held (seconds), or requests (count, at once).
FULL = {"seconds": 20, "hold": 45, "connections": 4000, "stalled": 800, "names": 2000, "slow": 400,
        "rate": 3000, "bodies": 200, "concurrency": 64, "dribble": 10}
SMOKE = {"seconds": 1, "hold": 2, "connections": 40, "stalled": 10, "names": 40, "slow": 20,
         "rate": 400, "bodies": 5, "concurrency": 8, "dribble": 1}


# --- Matrix signing: canonical JSON, Ed25519, X-Matrix, events of room version 10

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Key:
    def __init__(self, seed: bytes, key_id: str = "ed25519:k1"):
        self.private = Ed25519PrivateKey.from_private_bytes(seed)
        self.key_id = key_id
        self.public = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, value: object) -> str:
        return b64(self.private.sign(canonical(value)))


GOOD_KEY = Key(b"\x01" * 32)        # good.bench's, served by its key server
HONEST_KEY = Key(b"\x03" * 32)      # honest.bench's, likewise
OTHER_KEY = Key(b"\x02" * 32)       # what the other origins sign with: their keys are never found


def key_document(server: str, key: Key) -> dict:
    document = {"server_name": server, "verify_keys": {key.key_id: {"key": b64(key.public)}}, "old_verify_keys": {},
                "valid_until_ts": int(time.time() * 1000) + 86_400_000}
    document["signatures"] = {server: {key.key_id: key.sign(document)}}
    return document


def event(origin: str, key: Key, n: int) -> dict:
    """An m.room.message of ROOM sent by origin's user, hashed and signed by origin (version 10: the content is redacted)."""
    pdu = {"room_id": ROOM, "sender": f"@u:{origin}", "type": "m.room.message", "depth": 5,
           "origin_server_ts": int(time.time() * 1000), "prev_events": ["$" + "a" * 43], "auth_events": ["$" + "b" * 43],
           "content": {"body": f"hello {n}", "msgtype": "m.text"}}
    pdu["hashes"] = {"sha256": b64(hashlib.sha256(canonical(pdu)).digest())}
    pdu["signatures"] = {origin: {key.key_id: key.sign(pdu | {"content": {}})}}
    return pdu


def signed(origin: str, key: Key, n: int) -> tuple[bytes, str]:
    """The body of a /sign request for a new event and its X-Matrix Authorization, signed by origin for NAME."""
    pdu = event(origin, key, n)
    signature = key.sign({"method": "POST", "uri": SIGN, "origin": origin, "destination": NAME, "content": pdu})
    return json.dumps(pdu).encode(), f'X-Matrix origin="{origin}",destination="{NAME}",key="{key.key_id}",sig="{signature}"'


def signed_request(origin: str, key: Key, n: int) -> bytes:
    """One whole HTTP/1.1 /sign request for a new event, signed by origin for NAME, on a connection of its own."""
    body, authorization = signed(origin, key, n)
    return (f"POST {SIGN} HTTP/1.1\r\nHost: {NAME}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Authorization: {authorization}\r\nConnection: close\r\n\r\n").encode() + body


def unsigned_request(size: int) -> bytes:
    """A /sign request without X-Matrix whose body is size bytes of {"a":[{},{},...]}."""
    body = b'{"a":[' + b",".join([b"{}"] * ((size - 8) // 3)) + b"]}"
    body = body[:-2] + b" " * (size - len(body)) + b"]}"
    assert len(body) == size, len(body)
    return (f"POST {SIGN} HTTP/1.1\r\nHost: {NAME}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


# --- the gateway's configuration and the stand-in key servers

# Where each origin's key server listens, on the key port: the gateway's request names no server (its Host
# is the configured address), so each answers at an address of its own.
KEY_HOSTS = {GOOD: ("127.0.0.1", GOOD_KEY), HONEST: ("127.0.0.2", HONEST_KEY)}


def config(args: argparse.Namespace) -> None:
    servers = [{"name": name, "address": f"http://{host}:{args.key_port}"} for name, (host, _) in KEY_HOSTS.items()] + [
        {"name": f"slow{i}.bench", "address": f"http://127.0.0.1:{args.silent_port}"} for i in range(SLOW_NAMES)]
    server = {"enabled": True, "name": NAME, "port": args.federation_port, "key-file": args.key_file,
              "rooms": [{"id": ROOM, "version": "10"}], "servers": servers}
    if args.smoke:  # every phase within seconds: fetches cut off sooner, a smaller allowance to go past, yet
        # more than twice the honest homeserver's 24 a second
        server |= {"key-fetch-timeout": "1s", "rate-limit": {"capacity": 100, "period": "2s"}}
    print(json.dumps({"policy-gateway": {"auth": {"token": TOKEN}, "policy-server": server},
                      "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}))


class KeyServer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(key_document(*self.server.origin)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def keyservers(args: argparse.Namespace) -> None:
    silent = socket.create_server(("127.0.0.1", args.silent_port), backlog=4096)
    held = []

    def accept_forever() -> None:
        while True:
            held.append(silent.accept()[0])   # never read, never answered, never closed

    threading.Thread(target=accept_forever, daemon=True).start()
    servers = []
    for name, (host, key) in KEY_HOSTS.items():
        server = http.server.ThreadingHTTPServer((host, args.key_port), KeyServer)
        server.daemon_threads = True
        server.origin = (name, key)
        servers.append(server)
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()


# --- attacks: each a child process of run, printing what the clients were answered

def status_of(data: bytes) -> str:
    if not data:
        return "closed, no answer"
    parts = data.split(b" ", 2)
    return f"HTTP {parts[1].decode()}" if len(parts) > 1 and parts[0].startswith(b"HTTP/") else "not HTTP"


async def hold(port: int, mode: str, seconds: float, dribble: float, outcomes: collections.Counter) -> None:
    """One connection of a slow client, for seconds: its outcome counted."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    except (OSError, asyncio.TimeoutError) as error:
        outcomes[f"connect failed ({type(error).__name__})"] += 1
        return
    began = time.monotonic()
    if mode == "headers":
        pending = f"POST {SIGN} HTTP/1.1\r\nHost: {NAME}\r\nX-a: ".encode() + b"a" * 10_000
    else:
        pending = f"POST {SIGN} HTTP/1.1\r\nHost: {NAME}\r\nContent-Type: application/json\r\nContent-Length: {LIMIT}\r\n\r\n".encode()
        if mode == "body-stalled":
            pending += b"[" + b" " * (LIMIT - 1001) + b" " * 1000   # all but 1,000 bytes at once, then a byte at a time
    first = len(pending) - 1000 if mode == "body-stalled" else 20 if mode == "headers" else len(pending)
    outcome = "held to the end"
    try:
        writer.write(pending[:first])
        sent = first
        await writer.drain()
        while time.monotonic() - began < seconds:
            try:
                data = await asyncio.wait_for(reader.read(1024), min(dribble, max(0.01, seconds - (time.monotonic() - began))))
                outcome = status_of(data)
                break
            except asyncio.TimeoutError:
                pass
            if mode != "body-never-sent" and sent < len(pending):
                writer.write(pending[sent:sent + 1])
                sent += 1
                await writer.drain()
    except OSError as error:
        outcome = f"broken ({type(error).__name__})"
    finally:
        writer.close()
    outcomes[outcome] += 1


async def hold_all(port: int, mode: str, count: int, seconds: float, dribble: float) -> collections.Counter:
    outcomes: collections.Counter = collections.Counter()
    tasks = []
    for i in range(count):  # opened 200 at a time, as helper 252 did: the kernel's queue sees a ramp, not one instant
        tasks.append(asyncio.create_task(hold(port, mode, seconds, dribble, outcomes)))
        if i % 200 == 199:
            await asyncio.sleep(0.2)
    await asyncio.gather(*tasks)
    return outcomes


async def send_all(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> tuple[collections.Counter, list[float]]:
    """Each request on its own connection, concurrency at once: outcomes by kind and status, seconds each took."""
    outcomes: collections.Counter = collections.Counter()
    took: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def one(kind: str, request: bytes) -> None:
        async with slots:
            began = time.monotonic()
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
                try:
                    writer.write(request)
                    try:
                        await writer.drain()
                    except OSError:
                        pass    # an answer before the body's end closes the connection: read it
                    outcome = status_of(await asyncio.wait_for(reader.read(), 60))
                finally:
                    writer.close()
            except (OSError, asyncio.TimeoutError) as error:
                outcome = type(error).__name__
            outcomes[f"{kind}{outcome}"] += 1
            took.append(time.monotonic() - began)

    await asyncio.gather(*(one(kind, request) for kind, request in requests))
    return outcomes, took


def attack(args: argparse.Namespace) -> None:
    p = SMOKE if args.smoke else FULL
    phase, port = args.phase, args.federation_port
    if phase == "new-names":
        requests = [("", signed_request(f"o{i}.burst.invalid", OTHER_KEY, i)) for i in range(p["names"])]
    elif phase == "slow-origins":
        requests = [("", signed_request(f"slow{i % SLOW_NAMES}.bench", OTHER_KEY, i)) for i in range(p["slow"])]
    elif phase == "rate-limit":
        run_id = int(time.time())   # events no earlier run of this gateway answered (their content differs)
        requests = [("", signed_request(GOOD, GOOD_KEY, run_id * 100_000 + i)) for i in range(p["rate"])]
    elif phase == "big-bodies":
        requests = [(f"{size // 1024} KiB: ", unsigned_request(size)) for size in (LIMIT, 2 * LIMIT) for _ in range(p["bodies"])]
    else:
        requests = None
    print("ready", flush=True)      # what takes time to make is made: run starts timing
    began = time.monotonic()
    result: dict = {}
    if phase == "baseline":
        time.sleep(p["seconds"])
    elif requests is None:
        count = p["stalled"] if phase == "body-stalled" else p["connections"]
        result["clients"] = count
        result["outcomes"] = asyncio.run(hold_all(port, phase, count, p["hold"], p["dribble"]))
    else:
        result["clients"] = len(requests)
        result["outcomes"], took = asyncio.run(send_all(port, requests, p["concurrency"]))
        took.sort()
        result["client_p50_s"], result["client_max_s"] = round(took[len(took) // 2], 3), round(took[-1], 3)
    result["attack_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(result), flush=True)


# --- run: the streams and the gateway's sampling around each phase's attack

INVITE = json.dumps({"inviter": "@alice:example.com", "invitee": "@bob:example.org", "room_id": "!room:example.com"})
HONEST_EVENTS = itertools.count(int(time.time()) * 1_000_000)   # events no earlier run of this gateway answered


def policy_api_request() -> tuple[str, bytes | str, dict]:
    return "/v1/spam_checker/user_may_invite", INVITE, {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def honest_request() -> tuple[str, bytes | str, dict]:
    body, authorization = signed(HONEST, HONEST_KEY, next(HONEST_EVENTS))
    return SIGN, body, {"Host": NAME, "Authorization": authorization, "Content-Type": "application/json"}


class Stream:
    """connections clients of port, each sending request() every interval s once answered: on one connection kept
    open, as a homeserver reuses its connections, or on a new connection each time, as one that must connect now.
    What each request got, and how long it took, its connecting included."""

    def __init__(self, port: int, connections: int, interval: float, request, keep_alive: bool = True):
        self.port, self.interval, self.request, self.keep_alive = port, interval, request, keep_alive
        self.stop = threading.Event()
        self.results: list[tuple[str, float]] = []    # (outcome, ms): appended by every thread at once
        self.connects: list[float] = []                 # how long each connection took to open, likewise
        self.threads = [threading.Thread(target=self.ask) for _ in range(connections)]
        for thread in self.threads:
            thread.start()

    def ask(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        while not self.stop.is_set():
            path, body, headers = self.request()
            began = time.perf_counter()
            failure = "connect failed"
            try:
                if connection.sock is None:   # the first request, or the server closed the last connection
                    connection.connect()      # (http.client would open it within request(): told apart here)
                    self.connects.append(time.perf_counter() - began)
                failure = "no answer"
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
                outcome = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as error:
                outcome = f"{failure} ({f'timeout {TIMEOUT} s' if isinstance(error, TimeoutError) else type(error).__name__})"
                connection.close()
            if not self.keep_alive:
                connection.close()
            self.results.append((outcome, (time.perf_counter() - began) * 1000))
            self.stop.wait(self.interval)
        connection.close()

    def finish(self) -> dict:
        """The requests sent, those answered 200, the p50/p99/max of every answer (any status), the others by kind, and
        how many connections were opened."""
        self.stop.set()
        for thread in self.threads:
            thread.join()
        answers = sorted(ms for outcome, ms in self.results if outcome.startswith("HTTP "))
        at = lambda q: round(answers[min(len(answers) - 1, int(q * len(answers)))], 2) if answers else None
        errors = collections.Counter(outcome for outcome, _ in self.results if outcome != "HTTP 200")
        return {"requests": len(self.results), "answered": len(self.results) - sum(errors.values()), "p50_ms": at(0.5),
                "p99_ms": at(0.99), "max_ms": round(answers[-1], 1) if answers else None, "errors": dict(errors),
                "connects": len(self.connects)}


def streams(args: argparse.Namespace) -> list[Stream]:
    """The policy API stream (4 connections, every 50 ms), the honest homeserver's (2 connections, every 100 ms), and
    the same homeserver connecting anew (2 clients, a new connection every 500 ms)."""
    return [Stream(args.api_port, 4, 0.05, policy_api_request), Stream(args.federation_port, 2, 0.1, honest_request),
            Stream(args.federation_port, 2, 0.5, honest_request, keep_alive=False)]


class Sampler:
    """The gateway every 500 ms: RSS, threads and open files from /proc, heap used and the listener's gauges from the
    management port."""

    def __init__(self, pid: int, management: int):
        self.pid, self.management = pid, management
        self.stop = threading.Event()
        self.samples: list[dict] = []
        self.thread = threading.Thread(target=self.sample)
        self.thread.start()

    def sample(self) -> None:
        while not self.stop.is_set():
            sample = {}
            try:
                status = open(f"/proc/{self.pid}/status").read()
                sample["rss"] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
                sample["threads"] = int(re.search(r"Threads:\s+(\d+)", status).group(1))
                sample["fds"] = len(os.listdir(f"/proc/{self.pid}/fd"))
            except (OSError, AttributeError):
                pass   # the gateway is gone: run reports it
            metrics = prometheus(self.management)
            self.samples.append(sample | {"heap": metrics.get("heap")} | metrics.get("gauges", {}))
            self.stop.wait(0.5)

    def finish(self) -> dict:
        self.stop.set()
        self.thread.join()
        most = lambda key: max((s[key] for s in self.samples if s.get(key) is not None), default=None)
        return {"max_rss_mib": most("rss"), "max_threads": most("threads"), "max_heap_mib": most("heap") and round(most("heap")),
                "max_fds": most("fds"), "max_connections": most("connections"), "max_in_progress": most("in_progress")}


# The listener's gauges, by the names run gives them; a build before commit 65a455d1 has only the first two.
GAUGES = {"connections": "policy_server_connections", "connections_limit": "policy_server_connections_max",
          "in_progress": "policy_server_requests_in_progress", "in_progress_limit": "policy_server_requests_in_progress_max"}


def prometheus(management: int) -> dict:
    """Heap used (MiB), the listener's answers by outcome, its gauges (those it has) and its connections closed by reason
    (None without that counter), from the management port; {} when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/prometheus", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    heap = sum(float(v) for v in re.findall(r'^jvm_memory_used_bytes\{[^}]*area="heap"[^}]*\} (\S+)', text, re.M))

    def by(name: str, label: str, only: str = "") -> collections.Counter | None:
        samples = [(labels, value) for labels, value in re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)", text, re.M)
                   if only in labels]
        counted: collections.Counter = collections.Counter()
        for labels, value in samples:
            found = re.search(rf'{label}="([^"]*)"', labels)
            counted[found.group(1) if found else "?"] += int(float(value))
        return counted if samples else None

    gauges = {}
    for key, name in GAUGES.items():
        found = re.search(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.M)
        if found and float(found.group(1)) == float(found.group(1)):   # present, and not NaN
            gauges[key] = int(float(found.group(1)))
    return {"heap": heap / 2 ** 20, "outcomes": by("policy_server_requests_seconds_count", "outcome") or collections.Counter(),
            "gauges": gauges, "closed": by("policy_connections_closed_total", "reason", 'listener="policy_server"')
            # the family's name in the listener's first two-limit build (65a455d1)
            or by("policy_server_connections_closed_total", "reason")}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def run(args: argparse.Namespace) -> None:
    warmup = streams(args)   # the streams' code compiled, and honest.bench's key fetched, before the baseline
    time.sleep(1 if args.smoke else 10)
    for stream in warmup:
        stream.finish()
    for phase in args.phases.split(","):
        before = prometheus(args.management_port)
        command = [sys.executable, __file__, "attack", phase, "--federation-port", str(args.federation_port)]
        child = subprocess.Popen(command + (["--smoke"] if args.smoke else []), stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready", f"{phase}: the attack did not start"
        sampler, (api, honest, newcomer) = Sampler(args.pid, args.management_port), streams(args)
        began = time.monotonic()
        attack_result = json.loads(child.stdout.readline() or "{}")
        child.wait()
        time.sleep(0.5 if args.smoke else 3)     # what the gateway still does once the clients are gone
        result = {"phase": phase, "seconds": round(time.monotonic() - began, 1)} | attack_result
        result |= {"api": api.finish(), "honest": honest.finish(), "newcomer": newcomer.finish()} | sampler.finish()
        time.sleep(0.5)                          # for the listener to see the streams' connections closed
        after = prometheus(args.management_port)
        result["listener"] = {k: v for k, v in (after.get("outcomes", collections.Counter())
                                                - before.get("outcomes", collections.Counter())).items() if v}
        gauges = after.get("gauges", {})
        result |= {"connections_limit": gauges.get("connections_limit"), "in_progress_limit": gauges.get("in_progress_limit"),
                   "in_progress_after": gauges.get("in_progress"), "connections_after": gauges.get("connections")}
        closed_before, closed_after = before.get("closed"), after.get("closed")
        result["closed"] = None if closed_after is None else {
            reason: count - (closed_before or {}).get(reason, 0) for reason, count in closed_after.items()}
        result["alive"] = alive(args.pid)
        print(json.dumps(result), flush=True)
        if not result["alive"]:
            print(f"the gateway died during {phase}", file=sys.stderr)
            sys.exit(1)


# --- report

WHAT = {
    "baseline": "nothing but the streams",
    "headers": "{clients} connections, headers a byte every few s",
    "body-never-sent": "{clients} connections, body declared, never sent",
    "body-stalled": "{clients} connections, 127 KiB of 128 sent, then a byte every few s",
    "new-names": "{clients} `/sign`, each a new origin name (no key found)",
    "slow-origins": "{clients} `/sign`, 64 origins whose key server never answers",
    "rate-limit": "{clients} new events of one valid origin",
    "big-bodies": "{clients} unsigned bodies, half 128 KiB, half 256 KiB",
}


def counts(outcomes: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])) or "–"


def timed(stream: dict) -> str:
    """A stream's answers and errors, as table cells."""
    errors = sum(stream["errors"].values())
    return (f"{stream['requests']:,} | {stream['answered']:,} | {stream['p50_ms']} / {stream['p99_ms']} / **{stream['max_ms']}**"
            f" | {errors}{' ' + counts(stream['errors']) if errors else ''}")


def of(value, limit) -> str:
    return "absent" if value is None else f"{value:,}" + (f" / {limit:,}" if limit is not None else "")


def report(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in open(args.results) if line.startswith("{")]
    print("| phase | what the listener got | s | policy API n | 200 | p50 / p99 / max ms | errors | max RSS MiB | max threads"
          " | max heap MiB | max fds | the clients were answered | the listener counted |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        what = WHAT[r["phase"]].format(clients=f"{r.get('clients', 0):,}")
        print(f"| {r['phase']} | {what} | {r['seconds']} | {timed(r['api'])}"
              f" | {r['max_rss_mib']} | {r['max_threads']} | {r['max_heap_mib']} | {r['max_fds']}"
              f" | {counts(r.get('outcomes', {}))} | {counts(r['listener'])} |")
    print()
    print(f"The honest homeserver, {HONEST}: on 2 connections kept open, a new event's `/sign` every 100 ms each, and on a"
          " new connection each time, 2 clients every 500 ms (how long an answer took includes connecting).")
    print()
    print("| phase | kept open: n | 200 | p50 / p99 / max ms | errors | connections opened | new connection each: n | 200"
          " | p50 / p99 / max ms | errors |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(f"| {r['phase']} | {timed(r['honest'])} | {r['honest']['connects']} | {timed(r['newcomer'])} |")
    print()
    print("The listener: the most connections and requests in progress sampled, and after the phase (every client gone,"
          " the streams too); the connections closed to keep the requests in progress within their limit.")
    print()
    print("| phase | connections max / limit | after | requests in progress max / limit | after | closed: evicted | refused |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        closed = lambda reason: None if r["closed"] is None else r["closed"].get(reason, 0)
        print(f"| {r['phase']} | {of(r['max_connections'], r['connections_limit'])} | {of(r['connections_after'], None)}"
              f" | {of(r['max_in_progress'], r['in_progress_limit'])} | {of(r['in_progress_after'], None)}"
              f" | {of(closed('evicted'), None)} | {of(closed('refused'), None)} |")
    if rows and not rows[-1]["alive"]:
        print(f"\n**The gateway died during {rows[-1]['phase']}.**")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("config")
    c.add_argument("--federation-port", type=int, required=True)
    c.add_argument("--key-port", type=int, required=True)
    c.add_argument("--silent-port", type=int, required=True)
    c.add_argument("--key-file", required=True)
    c.add_argument("--smoke", action="store_true")
    k = commands.add_parser("keyservers")
    k.add_argument("--key-port", type=int, required=True)
    k.add_argument("--silent-port", type=int, required=True)
    r = commands.add_parser("run")
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--api-port", type=int, required=True)
    r.add_argument("--management-port", type=int, required=True)
    r.add_argument("--federation-port", type=int, required=True)
    r.add_argument("--phases", default=",".join(PHASES))
    r.add_argument("--smoke", action="store_true")
    a = commands.add_parser("attack")
    a.add_argument("phase", choices=PHASES)
    a.add_argument("--federation-port", type=int, required=True)
    a.add_argument("--smoke", action="store_true")
    p = commands.add_parser("report")
    p.add_argument("results")
    args = parser.parse_args()
    {"config": config, "keyservers": keyservers, "run": run, "attack": attack, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
