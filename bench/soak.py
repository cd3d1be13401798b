#!/usr/bin/env python3
"""The soak test: the gateway under a steady load for a long time, with every measure that could
grow without bound sampled from start to end. Writes bench/soak.md.

    bench/soak.py                  30 minutes at 500 requests/s
    bench/soak.py --minutes 3      a short run (report in target/bench/soak-short.md)

Run ``./mvnw -DskipTests package`` first, or let bench/run.sh's build do it. The gateway runs from
the product jar with the product's JVM flags; wrk sends a mix of spam-checker questions from
ever-new users and rooms, and one malformed request in a hundred (bench/lua/soak.lua).

The chain (``--chain realistic``, the default) has what keeps state or calls out, each exercised
as it is in production: a ``policy_list`` whose 10,000-rule file is replaced every minute,
``rate_limits`` and ``content_rules`` (repeated content included) with their buckets and windows in
memory, an ``http`` module calling a local policy service, and a denylist. Every five minutes the
configuration file itself changes, so the gateway reloads, builds a new generation and closes the
old one. ``--chain benchmark`` runs bench/run.sh's chain instead (a 10,000-glob denylist and
static modules).
"""

from __future__ import annotations

import argparse
import glob
import http.server
import threading
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "target" / "bench"
TOKEN = "bench-token"
# Growth allowed between the first sample after warm-up and the last, beyond which a measure is
# called growing: JIT code, class loading and buffer pools settle during the first minutes.
SLACK = {"rss_mib": 32, "heap_after_gc_mib": 8, "threads": 8, "metric_series": 0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=int, default=500, help="requests/s, paced (Poisson)")
    parser.add_argument("--interval", type=float, default=30, help="seconds between samples")
    parser.add_argument("--jar", help="the gateway jar (default: target/'s; copy it elsewhere to rebuild meanwhile)")
    parser.add_argument("--chain", choices=["realistic", "benchmark"], default="realistic")
    args = parser.parse_args()
    report = REPO / "bench" / "soak.md" if args.minutes >= 30 else OUT / "soak-short.md"
    java = os.environ.get("JAVA") or sorted(glob.glob("/usr/lib/jvm/*25*/bin/java"))[0]
    jar = args.jar or sorted(glob.glob(str(REPO / "target" / "matrix-policy-gateway-*.jar")))[0]
    subprocess.run([sys.executable, str(REPO / "bench" / "make_fixtures.py"), str(OUT / "fixtures")], check=True,
                   stdout=subprocess.DEVNULL)
    flags = re.search(r"<gateway.jvm.flags>(.*)</gateway.jvm.flags>", (REPO / "pom.xml").read_text()).group(1)
    port, management = 18290, 18291
    chain = RealisticChain(OUT / "soak") if args.chain == "realistic" else None
    config = chain.config if chain else OUT / "fixtures" / "gateway.yml"
    log = open(OUT / "soak-gateway.log", "wb")
    gateway = subprocess.Popen([java, *flags.split(), "-jar", jar, f"--server.port={port}",
                                f"--management.server.port={management}",
                                f"--spring.config.additional-location=file:{config}"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(management, gateway)
        connections = 8
        env = dict(os.environ, PACE_MS=str(connections * 1000 / args.rate))
        seconds = int(args.minutes * 60)
        load = subprocess.Popen(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(REPO / "bench/lua/soak.lua"),
                                 f"http://127.0.0.1:{port}", "--", TOKEN], env=env, stdout=subprocess.PIPE, text=True)
        samples = []
        began = time.monotonic()
        while load.poll() is None:
            samples.append(sample(java, gateway.pid, management, time.monotonic() - began))
            print(json.dumps(samples[-1]), file=sys.stderr)
            if chain:
                chain.churn(time.monotonic() - began)
            time.sleep(args.interval)
        samples.append(sample(java, gateway.pid, management, time.monotonic() - began))
        traffic = json.loads([line for line in load.stdout.read().splitlines() if line.startswith("{")][-1])
        if chain:
            traffic |= chain.outcome(management)
    finally:
        gateway.terminate()
        gateway.wait(timeout=60)
        if chain:
            chain.close()
    write(report, samples, traffic, args, flags)
    print(report.read_text())


class RealisticChain:
    """The realistic chain's configuration, its list file and policy service, and their churn."""

    RULES = 10_000
    LIST_EVERY = 60  # seconds between two versions of the list file
    RELOAD_EVERY = 300  # seconds between two versions of the configuration file

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config, self.rules = folder / "gateway.yml", folder / "bans.txt"
        self.service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PolicyService)
        threading.Thread(target=self.service.serve_forever, daemon=True).start()
        self.lists = self.reloads = 0
        self.write_rules()
        self.write_config()

    def write_rules(self) -> None:
        # Every version bans other users, so each one replaces all 10,000 rules of the index.
        version = self.lists
        lines = [f"ban user @spammer{version}-{n}:spam.example soak version {version}" for n in range(self.RULES)]
        replace(self.rules, "\n".join(lines) + "\n")
        self.lists += 1

    def write_config(self) -> None:
        spam = ["check_event_for_spam", "user_may_invite", "user_may_join_room", "user_may_create_room"]
        modules = [
            {"module": "user_denylist", "name": "denylist", "config": {"users": ["*:spam.example", "@airdrop*:*"]}},
            {"module": "policy_list", "name": "bans",
             "config": {"sources": [{"name": "local", "file": str(self.rules), "check-interval": "1s"}]}},
            {"module": "rate_limits", "name": "floods", "on-failure": "fail-open", "config": {
                "events": {"per-sender": {"capacity": 1000, "period": "10s"}},
                "joins": {"per-room": {"capacity": 1000, "period": "1m"}},
                "invites": {"per-sender": {"capacity": 1000, "period": "1m"}},
                "room-creation": {"per-sender": {"capacity": 1000, "period": "1m"}}}},
            {"module": "content_rules", "name": "content", "config": {
                "callbacks": ["check_event_for_spam"],
                "rules": [{"name": "words", "keywords": ["spamword%d" % n for n in range(1000)],
                           "regexes": ["promo%dcode\\s*\\d{3,}" % n for n in range(20)]},
                          # A version number that changes with each reload, so each one builds a new generation.
                          {"name": "links", "links": {"denied-domains": ["spam.example"], "max-count": 10 + self.reloads}},
                          {"name": "repeats", "repeated": {"max-rooms": 3, "window": "1m"}}]}},
            {"module": "http", "name": "policy-service", "timeout": "3s", "config": {
                "url": f"http://127.0.0.1:{self.service.server_address[1]}/v1", "callbacks": ["user_may_create_room"]}},
            {"module": "static", "name": "rest", "config": {"results": {c: "NOT_SPAM" for c in spam}}},
        ]
        config = {"policy-gateway": {"server-name": "example.com", "auth": {"token": TOKEN}, "modules": modules},
                  "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}
        replace(self.config, json.dumps(config))  # JSON is valid YAML
        self.reloads += 1

    def churn(self, elapsed: float) -> None:
        if elapsed >= self.lists * self.LIST_EVERY:
            self.write_rules()
        if elapsed >= self.reloads * self.RELOAD_EVERY:
            self.write_config()

    def outcome(self, management: int) -> dict:
        """What the churn did, from the gateway's own metrics: list updates applied, generations built."""
        with urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/prometheus", timeout=10) as response:
            text = response.read().decode()
        def total(name: str) -> int:
            return int(sum(float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.eE+]+)$", text, re.M)))
        return {"list_versions": self.lists, "config_versions": self.reloads,
                "list_updates": total("policy_module_policy_list_update_seconds_count"),
                "generation": total("policy_config_generation"),
                "service_calls": PolicyService.calls}

    def close(self) -> None:
        self.service.shutdown()


def replace(path: Path, text: str) -> None:
    """Writes a file whole, by renaming a new one over it, so the gateway never reads half of it."""
    path.with_suffix(".tmp").write_text(text)
    path.with_suffix(".tmp").replace(path)


class PolicyService(http.server.BaseHTTPRequestHandler):
    """The http module's policy service: answers every question NOT_SPAM, as the gateway's API does."""

    protocol_version = "HTTP/1.1"
    calls = 0

    def do_POST(self) -> None:
        request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        PolicyService.calls += 1
        body = json.dumps({"result": self.result(request)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def result(self, request: bytes) -> object:
        """The answer's result for this request's body (a subclass may take its time)."""
        return "NOT_SPAM"

    def log_message(self, *args) -> None:
        pass


def wait_ready(management: int, process: subprocess.Popen, log: Path = OUT / "soak-gateway.log") -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/health/readiness", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the gateway did not start: see {log}")


def sample(java: str, pid: int, management: int, elapsed: float) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    jcmd = str(Path(java).parent / "jcmd")
    subprocess.run([jcmd, str(pid), "GC.run"], check=True, stdout=subprocess.DEVNULL)
    heap = subprocess.run([jcmd, str(pid), "GC.heap_info"], check=True, capture_output=True, text=True).stdout
    used_kib = sum(int(m) for m in re.findall(r" total \d+K, used (\d+)K", heap))
    with urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/prometheus", timeout=10) as response:
        series = sum(1 for line in response.read().decode().splitlines() if line and not line.startswith("#"))
    return {"seconds": round(elapsed), "rss_mib": int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024,
            "heap_after_gc_mib": used_kib // 1024, "threads": int(re.search(r"Threads:\s+(\d+)", status).group(1)),
            "metric_series": series}


def describe_errors(traffic: dict) -> str:
    """wrk's socket errors by kind (a timeout is an answer that took over 2 s), when it reported them."""
    kinds = [f"{traffic[kind]} {kind}" for kind in ("connect", "read", "write", "timeout") if traffic.get(kind)]
    return f" ({', '.join(kinds)})" if kinds else ""


def write(report: Path, samples: list, traffic: dict, args: argparse.Namespace, flags: str) -> None:
    # Heap after GC moves with what is alive at each sample (a list version being compiled, the windows
    # of the last minute), so single samples are compared by their medians: the first fifth after the
    # warm-up minute against the last fifth.
    settled = [s for s in samples if s["seconds"] >= 60] or samples
    fifth = max(1, len(settled) // 5)
    warm = {measure: int(statistics.median(s[measure] for s in settled[:fifth])) for measure in SLACK}
    last = {measure: int(statistics.median(s[measure] for s in settled[-fifth:])) for measure in SLACK}
    lines = ["# Soak test", "", f"Written by `bench/soak.py` on {time.strftime('%Y-%m-%d', time.gmtime())}: "
             f"{args.minutes:g} minutes at a paced {args.rate} requests/s (8 connections), JVM flags `{flags}`, "
             f"chain `{args.chain}` (see the script's docstring); "
             f"{traffic['requests']} requests ({traffic['requests'] / (args.minutes * 60):.0f}/s), "
             f"{traffic['errors']} socket errors{describe_errors(traffic)}, {traffic['non_2xx']} non-2xx answers "
             "(the malformed 1% and the denylist's refusals answer 400 and 403).", "",
             *([f"Churn during the run: {traffic['list_versions']} versions of the 10,000-rule list file "
                f"({traffic['list_updates']} list updates applied), {traffic['config_versions']} versions of the "
                f"configuration (generation {traffic['generation']} serving at the end), "
                f"{traffic['service_calls']} calls to the http module's policy service.", ""]
               if "list_versions" in traffic else []),
             "| measure | median, first fifth after 1 minute | median, last fifth | allowed growth | verdict |",
             "|---|---:|---:|---:|---|"]
    for measure, slack in SLACK.items():
        grew = last[measure] - warm[measure]
        lines.append(f"| {measure} | {warm[measure]} | {last[measure]} | {slack} | "
                     f"{'**grows**' if grew > slack else 'bounded'} ({grew:+d}) |")
    lines += ["", "Every sample (a full GC before each heap reading):", "",
              "| s | RSS MiB | heap after GC MiB | threads | metric series |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {s['seconds']} | {s['rss_mib']} | {s['heap_after_gc_mib']} | {s['threads']} | {s['metric_series']} |"
              for s in samples]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
