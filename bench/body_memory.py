#!/usr/bin/env python3
"""One run of bench/body-memory.sh: a gateway jar under N concurrent costly bodies, held in flight.

    bench/body_memory.py run --jar JAR --label NAME --scenario flood --concurrency 200 --port 18420
    bench/body_memory.py report RESULTS.jsonl        the runs' JSON lines as a Markdown table, to stdout

``run`` starts, in this process, a policy service that the gateway's ``http`` module forwards to and
that holds each request for ``--hold`` seconds before answering NOT_SPAM (or allowed), so the N
requests are in flight at once; it answers the probe sent before and after at once. It starts the gateway from
the jar with the image's JVM flags (``--jvm-flags``), a chain of ``content_rules`` (reads the event's
content, so its tree is built) and that ``http`` module, then sends N bodies at once, each on its own
connection:

- ``flood``: ``check_event_for_spam`` with a 64 KB event whose content is ``[{},{},...]``, which any
  remote user can send;
- ``state``: ``check_event_allowed`` with a room's state of 1 MB in membership events, forwarded whole;
- ``realistic``: ``check_event_for_spam`` with a realistic event of 2 KB, ordinary traffic held by a slow service.

It prints one JSON line: whether the JVM died (exit code, the OutOfMemoryError line), the answers by
kind and how long they took, the heap a full collection leaves halfway through the hold and at the
end, the most heap any collection left (GC log), the peak RSS, the gauge
``policy_requests_body_memory_bytes`` at its highest during the load and after it, and how a
realistic 2 KB event is answered right after.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import soak

TOKEN = "bench-token"

REALISTIC_EVENT = {
    "event_id": "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "room_id": "!OGEhHVWSdvArJzumhm:matrix.org",
    "sender": "@someone:example.org", "type": "m.room.message", "origin_server_ts": 1700000000000, "depth": 123456,
    "auth_events": ["$" + c * 43 for c in "abc"], "prev_events": ["$" + "d" * 43],
    "hashes": {"sha256": "Fn1w7TGX1bU2kK6mB9kIzG2t3qf8j0nF0d3mXbqB+5U"},
    "signatures": {"example.org": {"ed25519:a_abcd": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}},
    "unsigned": {"age": 1234, "age_ts": 1700000001234},
    "content": {"msgtype": "m.text", "format": "org.matrix.custom.html", "body": "word " * 120,
                "formatted_body": "<p>" + "word " * 120 + "</p>", "m.mentions": {"user_ids": ["@alice:example.com"]}},
}


def flood_body() -> bytes:
    """A 64 KB event (at most 65,536 bytes, what Synapse lets through) whose content is mostly [{},{},...]."""
    event = {"event_id": "$flood", "room_id": "!room:example.org", "sender": "@mallory:example.org",
             "type": "m.room.message", "origin_server_ts": 1700000000000,
             "content": {"msgtype": "m.text", "body": "hello", "a": "LIST"}}
    head, tail = json.dumps({"event": event}).encode().split(b'"LIST"')
    count = (65_536 - len(head) - len(tail) + 1) // 3  # "{}," each, the last without its comma
    body = head + b"[" + b",".join([b"{}"] * (count - 1)) + b"]" + tail
    assert 65_000 <= len(body) <= 65_536, len(body)
    return body


def state_body() -> bytes:
    """check_event_allowed with a room's state of about 1 MB in membership events (PolicyApiBodyBudgetTest's shape)."""
    members = [{"event_id": f"$state{n}:example.com", "sender": "@alice:example.com", "room_id": "!room:example.com",
                "type": "m.room.member", "state_key": f"@member{n}:example.com", "origin_server_ts": 1700000000000,
                "content": {"membership": "join", "displayname": f"Member {n}"}} for n in range(3_700)]
    body = json.dumps({"event": REALISTIC_EVENT, "state_events": members}).encode()
    assert 900_000 <= len(body) <= 1_048_576, len(body)
    return body


SCENARIOS = {
    "flood": ("/v1/spam_checker/check_event_for_spam", flood_body),
    "state": ("/v1/third_party_rules/check_event_allowed", state_body),
    "realistic": ("/v1/spam_checker/check_event_for_spam", lambda: json.dumps({"event": REALISTIC_EVENT}).encode()),
}
# The request sent before and after the burst: a realistic event, which the policy service answers at once.
PROBE_SENDER = "@probe:example.org"
NORMAL = ("/v1/spam_checker/check_event_for_spam", json.dumps({"event": REALISTIC_EVENT | {"sender": PROBE_SENDER}}).encode())


class PolicyService(soak.PolicyService):
    """The http module's service: holds every request but the probe's for ``hold`` seconds, then answers as the gateway's API does."""

    hold = 10.0

    def result(self, request: bytes) -> object:
        if PROBE_SENDER.encode() not in request:
            time.sleep(self.hold)
        return {"allowed": True, "replacement": None} if self.path.endswith("check_event_allowed") else "NOT_SPAM"


class Service(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # N connections at once, not the default backlog of 5
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a gateway that died resets its connections: the run reports that, not a trace per connection


def config(folder: Path, service_port: int) -> Path:
    modules = [
        {"module": "content_rules", "name": "content", "config": {
            "callbacks": ["check_event_for_spam"],
            "rules": [{"name": "words", "keywords": ["airdrop", "seed phrase"]}]}},
        # patient with the local service, which a loaded machine may keep from accepting hundreds of connections within 1 s:
        # a module failure would answer 403 (fail-closed) and hide what the bodies did
        {"module": "http", "name": "held", "timeout": "75s", "config": {
            "url": f"http://127.0.0.1:{service_port}/v1", "callbacks": ["check_event_for_spam", "check_event_allowed"],
            "timeout": "60s", "connect-timeout": "10s", "retries": 0,
            "circuit-breaker": {"sliding-window-size": 10000, "minimum-number-of-calls": 10000}}},
    ]
    path = folder / "gateway.yml"
    path.write_text(json.dumps({  # JSON is YAML
        "policy-gateway": {"server-name": "example.com", "auth": {"token": TOKEN}, "modules": modules,
                           "reload": {"watch": False}},
        "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}))
    return path


def post(port: int, path: str, body: bytes, timeout: float = 120,
         connected: threading.Barrier | None = None) -> tuple[str, float]:
    """
    Sends one request on its own connection: its kind of answer ('200', '503 M_LIMIT_EXCEEDED', 'error
    sending: ...') and seconds from sending it. With ``connected``, the connection is opened first and
    the request waits there for the others': Synapse's connections to the gateway are open before a
    burst (a pool of keep-alive connections), and N connects at the same instant would overflow the
    listen backlog of one machine (Tomcat's accept-count, 100) instead of testing the bodies.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    stage = "connecting"
    began = time.monotonic()
    try:
        connection.connect()
        if connected:
            connected.wait()
            began = time.monotonic()
        stage = "sending"
        connection.request("POST", path, body, {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        stage = "reading"
        response = connection.getresponse()
        answer = response.read()
        kind = str(response.status)
        if response.status >= 400:
            try:
                kind += " " + json.loads(answer).get("errcode", "?")
            except ValueError:
                kind += " (not JSON)"
        return kind, time.monotonic() - began
    except (OSError, http.client.HTTPException) as failed:
        return f"error {stage}: {type(failed).__name__}", time.monotonic() - began
    finally:
        connection.close()


def prometheus(management: int) -> dict[str, float] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/prometheus", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    values = {}
    for name in ("policy_requests_body_memory_bytes", "policy_requests_body_memory_max_bytes"):
        found = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.eE+-]+)$", text, re.M)
        if found:
            values[name] = float(found.group(1))
    return values


def rss_mib(pid: int, field: str = "VmRSS") -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(rf"{field}:\s+(\d+)", status)
    return int(found.group(1)) // 1024 if found else None


def heap_after_gc(gc_log: Path) -> tuple[int | None, int]:
    """The most heap any collection left (MiB), and how many collections were full ones."""
    afters, full = [], 0
    for line in gc_log.read_text(errors="replace").splitlines():
        found = re.search(r"Pause (Young|Full).* \d+M->(\d+)M\(\d+M\)", line)
        if found:
            afters.append(int(found.group(2)))
            full += found.group(1) == "Full"
    return (max(afters) if afters else None), full


def live_heap(jcmd: str, gateway: subprocess.Popen, gc_log: Path) -> int | None:
    """
    What a full collection leaves (MiB), as the GC log has it: GC.heap_info, read after, counts what
    the requests allocated meanwhile too. None when the JVM is gone or too busy to say.
    """
    try:
        subprocess.run([jcmd, str(gateway.pid), "GC.run"], check=True, stdout=subprocess.DEVNULL, timeout=30)
    except (subprocess.SubprocessError, OSError):
        return None
    found = re.findall(r"Pause Full \(Diagnostic Command\) \d+M->(\d+)M", gc_log.read_text(errors="replace"))
    return int(found[-1]) if found else None


def start_gateway(args: argparse.Namespace, folder: Path, service_port: int) -> tuple[subprocess.Popen, Path, Path]:
    """
    The gateway from ``args.jar`` with ``args.jvm_flags`` on ``args.port`` (its management port the
    next), the chain of :func:`config` forwarding to ``service_port``: the process, its GC log and its log.
    """
    gc_log, log_path = folder / "gc.log", folder / "gateway.log"
    command = [args.java, *args.jvm_flags.split(), f"-Xlog:gc:file={gc_log}", "-jar", args.jar,
               f"--server.port={args.port}", f"--management.server.port={args.port + 1}",
               f"--spring.config.additional-location=file:{config(folder, service_port)}"]
    with open(log_path, "wb") as log:
        gateway = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return gateway, gc_log, log_path


def run(args: argparse.Namespace) -> None:
    folder = Path(args.work) / re.sub(r"\W+", "-", f"{args.label}-{args.scenario}-{args.concurrency}")
    folder.mkdir(parents=True, exist_ok=True)
    PolicyService.hold = args.hold
    service = Service(("127.0.0.1", 0), PolicyService)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    path, make = SCENARIOS[args.scenario]
    body = make()
    gateway, gc_log, log_path = start_gateway(args, folder, service.server_address[1])
    # SIGTERM (the script's trap, a timeout) ends this run the way an error does: the gateway is stopped below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    management = args.port + 1
    result = {"label": args.label, "scenario": args.scenario, "concurrency": args.concurrency, "body_bytes": len(body),
              "hold_s": args.hold, "loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    try:
        soak.wait_ready(management, gateway, log_path)
        result["warm_up"] = post(args.port, *NORMAL)[0]
        before = prometheus(management) or {}
        result["budget_max_mib"] = round(before["policy_requests_body_memory_max_bytes"] / 2**20, 1) \
            if "policy_requests_body_memory_max_bytes" in before else None

        samples, peak_rss, done = [], [0], threading.Event()

        def sample() -> None:
            while not done.is_set() and gateway.poll() is None:
                values = prometheus(management)
                if values and "policy_requests_body_memory_bytes" in values:
                    samples.append(values["policy_requests_body_memory_bytes"])
                peak_rss[0] = max(peak_rss[0], rss_mib(gateway.pid, "VmHWM") or 0)  # the kernel's own peak, read while it lives
                done.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        answers: list[tuple[str, float]] = []
        start = threading.Barrier(args.concurrency)

        def send() -> None:
            answers.append(post(args.port, path, body, connected=start))

        jcmd = str(Path(args.java).parent / "jcmd")
        live = threading.Timer(args.hold / 2, lambda: result.update(live_heap_mid_burst_mib=live_heap(jcmd, gateway, gc_log)))
        began = time.monotonic()
        senders = [threading.Thread(target=send, daemon=True) for _ in range(args.concurrency)]
        for sender in senders:
            sender.start()
        live.start()  # halfway through the hold: what the requests in flight keep alive
        for sender in senders:
            sender.join()
        live.join()
        result["load_s"] = round(time.monotonic() - began, 1)
        time.sleep(1)
        done.set()
        sampler.join()
        counts: dict[str, int] = {}
        for kind, _ in answers:
            counts[kind] = counts.get(kind, 0) + 1
        result["answers"] = dict(sorted(counts.items()))
        result["answer_seconds"] = {kind: [round(min(times), 2), round(max(times), 2)] for kind in counts
                                    for times in [[seconds for k, seconds in answers if k == kind]]}  # the first and last
        result["gauge_peak_mib"] = round(max(samples) / 2**20, 1) if samples else None
        result["peak_rss_mib"] = peak_rss[0] or None
        alive = gateway.poll() is None
        if alive:
            after = prometheus(management) or {}
            result["gauge_after"] = after.get("policy_requests_body_memory_bytes")
            kind, seconds = post(args.port, *NORMAL, timeout=30)
            result["normal_after"] = f"{kind} in {seconds * 1000:.0f} ms"
            result["peak_rss_mib"] = max(peak_rss[0], rss_mib(gateway.pid, "VmHWM") or 0)
            result["heap_after_full_gc_end_mib"] = live_heap(jcmd, gateway, gc_log)
            result["died"] = gateway.poll() is not None
        if not alive or result["died"]:
            result["died"] = True
            result["exit_code"] = gateway.wait(timeout=30)
            oom = [line for line in log_path.read_text(errors="replace").splitlines() if "OutOfMemoryError" in line]
            result["oom_line"] = oom[0].strip()[:160] if oom else None
    finally:
        if gateway.poll() is None:
            gateway.terminate()
            try:
                gateway.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gateway.kill()
                gateway.wait()
        service.shutdown()
        service.server_close()
    result["peak_heap_after_gc_mib"], result["full_gcs"] = heap_after_gc(gc_log)
    result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result), flush=True)


def report(args: argparse.Namespace) -> None:
    results = [json.loads(line) for line in Path(args.results).read_text().splitlines() if line.startswith("{")]
    print("| round | build | scenario | N | died | answers (seconds, first to last) | live heap mid-burst | "
          "peak heap after GC | peak RSS | gauge peak / max | gauge after | 2 KB event after | heap at end | load avg |")
    print("|---:|---|---|---:|---|---|---:|---:|---:|---:|---:|---|---:|---|")
    mib = lambda value: "–" if value is None else f"{value} MiB"
    for r in results:
        died = f"**yes**, exit {r.get('exit_code')}" + (f": `{r['oom_line']}`" if r.get("oom_line") else "") \
            if r.get("died") else "no"
        seconds = r.get("answer_seconds", {})
        answers = ", ".join(f"{n} × {kind} ({'–'.join(f'{t:g}' for t in seconds.get(kind, []))})"
                            for kind, n in r.get("answers", {}).items())
        budget = r.get("budget_max_mib") is not None
        gauge = f"{r.get('gauge_peak_mib')} / {r['budget_max_mib']} MiB" if budget else "n/a"
        after = f"{r.get('gauge_after', 0):.0f}" if budget and not r.get("died") else "n/a" if not budget else "–"
        print(f"| {r.get('round', '')} | {r['label']} | {r['scenario']} | {r['concurrency']} | {died} | {answers} "
              f"| {mib(r.get('live_heap_mid_burst_mib'))} | {mib(r.get('peak_heap_after_gc_mib'))} | {mib(r.get('peak_rss_mib'))} "
              f"| {gauge} | {after} | {r.get('normal_after') or '–'} | {mib(r.get('heap_after_full_gc_end_mib'))} "
              f"| {' '.join(r['loadavg_before'])} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run")
    one.add_argument("--jar", required=True)
    one.add_argument("--label", required=True)
    one.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    one.add_argument("--concurrency", type=int, required=True)
    one.add_argument("--port", type=int, default=18420, help="the policy API's; the management port is the next")
    one.add_argument("--hold", type=float, default=10, help="seconds the policy service holds each large body")
    one.add_argument("--jvm-flags", default="-XX:+UseSerialGC -Xmn64m -Xmx307m -XX:+ExitOnOutOfMemoryError")
    one.add_argument("--java", default=os.environ.get("JAVA") or sorted(glob.glob("/usr/lib/jvm/*25*/bin/java"))[0])
    one.add_argument("--work", default="target/bench/body-memory", help="where each run's folder goes")
    both = commands.add_parser("report")
    both.add_argument("results")
    arguments = parser.parse_args()
    run(arguments) if arguments.command == "run" else report(arguments)


if __name__ == "__main__":
    main()
