#!/usr/bin/env python3
"""The soak test: the gateway under a steady load for a long time, with every measure that could
grow without bound sampled from start to end. Writes bench/soak.md.

    bench/soak.py                  30 minutes at 500 requests/s
    bench/soak.py --minutes 3      a short run (report in target/bench/soak-short.md)
    bench/soak.py --hostile        the same beside hostile clients; writes bench/soak-hostile.md from 20 minutes

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

``--hostile`` runs the gateway in the heap of the image's default container (307 MiB), turns the policy server on
(its bounds lowered so that the clients pass them) and runs
hostile clients on the policy API, the policy server's listener and the management port the whole
time, beside a stand-in homeserver asking the policy server about signed events
(bench/soak_hostile.py). Once the load ends, the clients leave and after a quiet minute every gauge
of what is in progress must read 0; the report adds the legitimate answers by status, how each
hostile client's tries ended, those gauges, and the gateway's ERROR and WARN lines.
"""

from __future__ import annotations

import argparse
import collections
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

import soak_hostile

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "target" / "bench"
TOKEN = "bench-token"
# Growth allowed between the first sample after warm-up and the last, beyond which a measure is
# called growing: JIT code, class loading and buffer pools settle during the first minutes.
SLACK = {"rss_mib": 32, "heap_after_gc_mib": 8, "threads": 8, "metric_series": 0}
# The heap the image gets in its default 512 MiB container (MaxRAMPercentage=60), for --hostile.
CONTAINER_HEAP = "307m"
# What is in progress at a sample: each must be 0 again once the traffic stops (--hostile).
GAUGES = ["policy_requests_in_flight", "policy_requests_body_memory_bytes", "policy_server_body_memory_bytes",
          "policy_server_connections", "policy_server_requests_in_progress"]
# What the gateway counted of the hostile traffic (--hostile): its answers and the connections it closed.
COUNTERS = ["policy_server_requests_seconds_count", "policy_connections_closed_total", "policy_requests_in_flight_refused_total",
            "policy_server_rate_limited_origins_total"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=int, default=500, help="requests/s, paced (Poisson)")
    parser.add_argument("--interval", type=float, default=30, help="seconds between samples")
    parser.add_argument("--jar", help="the gateway jar (default: target/'s; copy it elsewhere to rebuild meanwhile)")
    parser.add_argument("--chain", choices=["realistic", "benchmark"], default="realistic")
    parser.add_argument("--hostile", action="store_true",
                        help="hostile clients on every port beside the load, and the policy server on (bench/soak_hostile.py)")
    parser.add_argument("--port", type=int, default=18290, help="the policy API's; the management port is the next, then "
                        "the policy service's, the policy server's and the stand-in homeserver's (--hostile)")
    args = parser.parse_args()
    if args.hostile and args.chain != "realistic":
        parser.error("--hostile runs the realistic chain")
    name = "soak-hostile" if args.hostile else "soak"
    report = REPO / "bench" / f"{name}.md" if args.minutes >= (20 if args.hostile else 30) else OUT / f"{name}-short.md"
    java = os.environ.get("JAVA") or sorted(glob.glob("/usr/lib/jvm/*25*/bin/java"))[0]
    jar = str(Path(args.jar).resolve()) if args.jar else sorted(glob.glob(str(REPO / "target" / "matrix-policy-gateway-*.jar")))[0]
    subprocess.run([sys.executable, str(REPO / "bench" / "make_fixtures.py"), str(OUT / "fixtures")], check=True,
                   stdout=subprocess.DEVNULL)
    flags = re.search(r"<gateway.jvm.flags>(.*)</gateway.jvm.flags>", (REPO / "pom.xml").read_text()).group(1)
    if args.hostile:
        # the heap of the image's default 512 MiB container: the bounds the hostile clients press on scale with the heap,
        # and on this machine's RAM they would be out of reach (28,915 requests in flight in a 14 GiB heap)
        flags += f" -Xmx{CONTAINER_HEAP}"
    port, management, service, policy, homeserver_port = range(args.port, args.port + 5)
    homeserver = hostile = policy_server = None
    if args.hostile:
        homeserver = soak_hostile.SignedHomeserver(java, jar, OUT / "soak-hostile", homeserver_port, policy)
        policy_server = soak_hostile.policy_server_config(OUT / "soak-hostile", policy, homeserver_port)
    chain = RealisticChain(OUT / name, service, policy_server) if args.chain == "realistic" else None
    config = chain.config if chain else OUT / "fixtures" / "gateway.yml"
    log_file = OUT / f"{name}-gateway.log"
    log = open(log_file, "wb")
    gateway = subprocess.Popen([java, *flags.split(), "-jar", jar, f"--server.port={port}",
                                f"--management.server.port={management}",
                                f"--spring.config.additional-location=file:{config}"],
                               # in a folder of its own: Spring Boot also reads an application.yml in the working directory
                               cwd=OUT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(management, gateway, log_file)
        connections = 8
        env = dict(os.environ, PACE_MS=str(connections * 1000 / args.rate))
        seconds = int(args.minutes * 60)
        samples = [sample(java, gateway.pid, management, 0)]
        if args.hostile:
            hostile = soak_hostile.Hostile(soak_hostile.targets(port, management, policy, TOKEN, homeserver))
            hostile.start()
            homeserver.start()
        load = subprocess.Popen(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(REPO / "bench/lua/soak.lua"),
                                 f"http://127.0.0.1:{port}", "--", TOKEN], env=env, stdout=subprocess.PIPE, text=True)
        began = time.monotonic()
        while load.poll() is None:
            time.sleep(args.interval)
            samples.append(sample(java, gateway.pid, management, time.monotonic() - began))
            print(json.dumps(samples[-1]), file=sys.stderr)
            if chain:
                chain.churn(time.monotonic() - began)
        if hostile:
            hostile.close()
            homeserver.close()
        samples.append(sample(java, gateway.pid, management, time.monotonic() - began))
        traffic = json.loads([line for line in load.stdout.read().splitlines() if line.startswith("{")][-1])
        if chain:
            traffic |= chain.outcome(management)
        if hostile:
            time.sleep(60)  # the quiet minute: nothing but the samples
            samples.append(sample(java, gateway.pid, management, time.monotonic() - began) | {"quiet": True})
            traffic["counters"] = counters(management, COUNTERS)
    finally:
        if hostile:
            hostile.close()
        if homeserver:
            homeserver.close()
        gateway.terminate()
        gateway.wait(timeout=60)
        if chain:
            chain.close()
    write(report, samples, traffic, args, flags, hostile, homeserver, log_file)
    print(report.read_text())


class RealisticChain:
    """The realistic chain's configuration, its list file and policy service, and their churn."""

    RULES = 10_000
    LIST_EVERY = 60  # seconds between two versions of the list file
    RELOAD_EVERY = 300  # seconds between two versions of the configuration file

    def __init__(self, folder: Path, service_port: int = 0, policy_server: dict | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config, self.rules = folder / "gateway.yml", folder / "bans.txt"
        self.policy_server = {"policy-server": policy_server} if policy_server else {}
        self.service = http.server.ThreadingHTTPServer(("127.0.0.1", service_port), PolicyService)
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
        config = {"policy-gateway": {"server-name": "example.com", "auth": {"token": TOKEN}, "modules": modules,
                                     **self.policy_server},
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
        text = response.read().decode()
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    gauges = {name: int(sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.eE+-]+)$", text, re.M)))
              for name in GAUGES if re.search(rf"^{name}[ {{]", text, re.M)}
    return {"seconds": round(elapsed), "rss_mib": int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024,
            "heap_after_gc_mib": used_kib // 1024, "threads": int(re.search(r"Threads:\s+(\d+)", status).group(1)),
            "metric_series": series, "load": os.getloadavg()[0], **gauges}


def counters(management: int, names: list[str]) -> dict[str, int]:
    """The gateway's counters of these names, each series by its labels (the application's left out)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/prometheus", timeout=10) as response:
        text = response.read().decode()
    found = re.findall(rf"^((?:{'|'.join(names)})(?:{{[^}}]*}})?) ([0-9.eE+-]+)$", text, re.M)
    return {re.sub(r'application="[^"]*",?', "", series).replace("{}", ""): int(float(value)) for series, value in found}


def describe_errors(traffic: dict) -> str:
    """wrk's socket errors by kind (a timeout is an answer that took over 2 s), when it reported them."""
    kinds = [f"{traffic[kind]} {kind}" for kind in ("connect", "read", "write", "timeout") if traffic.get(kind)]
    return f" ({', '.join(kinds)})" if kinds else ""


def write(report: Path, samples: list, traffic: dict, args: argparse.Namespace, flags: str,
          hostile: soak_hostile.Hostile | None = None, homeserver: soak_hostile.SignedHomeserver | None = None,
          log_file: Path | None = None) -> None:
    # Heap after GC moves with what is alive at each sample (a list version being compiled, the windows
    # of the last minute), so single samples are compared by their medians: the first fifth after the
    # warm-up minute against the last fifth. The quiet minute's sample (--hostile) is read apart.
    loaded = [s for s in samples if not s.get("quiet")]
    settled = [s for s in loaded if s["seconds"] >= 60] or loaded
    fifth = max(1, len(settled) // 5)
    warm = {measure: int(statistics.median(s[measure] for s in settled[:fifth])) for measure in SLACK}
    last = {measure: int(statistics.median(s[measure] for s in settled[-fifth:])) for measure in SLACK}
    loads = [s["load"] for s in samples]
    lines = [f"# Soak test{' with hostile traffic' if hostile else ''}", "",
             f"Written by `bench/soak.py{' --hostile' if hostile else ''}` on {time.strftime('%Y-%m-%d', time.gmtime())}: "
             f"{args.minutes:g} minutes at a paced {args.rate} requests/s (8 connections), JVM flags `{flags}`, "
             f"chain `{args.chain}` (see the script's docstring); "
             f"{traffic['requests']} requests ({traffic['requests'] / (args.minutes * 60):.0f}/s), "
             f"{traffic['errors']} socket errors{describe_errors(traffic)}, {traffic['non_2xx']} non-2xx answers "
             "(the malformed 1% and the denylist's refusals answer 400 and 403). "
             f"Load average (1 minute) at the samples: {min(loads):.1f} to {max(loads):.1f}, median "
             f"{statistics.median(loads):.1f}, on {os.cpu_count()} cores.", "",
             *([f"Churn during the run: {traffic['list_versions']} versions of the 10,000-rule list file "
                f"({traffic['list_updates']} list updates applied), {traffic['config_versions']} versions of the "
                f"configuration (generation {traffic['generation']} serving at the end), "
                f"{traffic['service_calls']} calls to the http module's policy service.", ""]
               if "list_versions" in traffic else [])]
    if hostile:
        lines += hostile_sections(samples, traffic, hostile, homeserver, log_file)
    lines += ["| measure | median, first fifth after 1 minute | median, last fifth | allowed growth | verdict |",
              "|---|---:|---:|---:|---|"]
    for measure, slack in SLACK.items():
        grew = last[measure] - warm[measure]
        lines.append(f"| {measure} | {warm[measure]} | {last[measure]} | {slack} | "
                     f"{'**grows**' if grew > slack else 'bounded'} ({grew:+d}) |")
    gauges = [name for name in GAUGES if hostile and name in samples[-1]]
    lines += ["", "Every sample (a full GC before each heap reading):", "",
              "| s | RSS MiB | heap after GC MiB | threads | metric series | load | " + " | ".join(gauges) + " |",
              "|---:" * (6 + len(gauges)) + "|"]
    lines += [f"| {s['seconds']}{' (quiet)' if s.get('quiet') else ''} | {s['rss_mib']} | {s['heap_after_gc_mib']} | "
              f"{s['threads']} | {s['metric_series']} | {s['load']:.1f} | " + " | ".join(str(s.get(g, '')) for g in gauges) + " |"
              for s in samples]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n")


def hostile_sections(samples: list, traffic: dict, hostile: soak_hostile.Hostile,
                     homeserver: soak_hostile.SignedHomeserver, log_file: Path) -> list[str]:
    """The --hostile report: the legitimate answers, the hostile clients' outcomes, the gauges, the log."""
    statuses = traffic.get("statuses", {})
    server_errors = {status: n for status, n in statuses.items() if status.startswith("5")}
    unexpected = {status: n for status, n in server_errors.items() if status != "503 M_LIMIT_EXCEEDED"}
    signed_unexpected = {status: n for status, n in homeserver.statuses.items()
                         if status not in ("200 signed", "429 M_LIMIT_EXCEEDED")}
    lines = ["## Legitimate traffic", "",
             f"- The paced load on the policy API, answers by status: {describe(statuses)}. "
             f"5xx: {sum(server_errors.values())} ({describe(server_errors) or 'none'}); other than the documented "
             f"503 M_LIMIT_EXCEEDED: **{sum(unexpected.values())}**.",
             f"- The stand-in homeserver on the policy server ({soak_hostile.SIGNED_RATE} new events a second against a "
             f"rate limit of {soak_hostile.RATE_LIMIT['capacity']} per {soak_hostile.RATE_LIMIT['period']}, and 5 a second "
             f"of one remembered event): {describe(homeserver.statuses)}; anything but a signature or a 429: "
             f"**{sum(signed_unexpected.values())}** {describe(signed_unexpected)}.", "",
             "## Hostile clients", "", "How each client's tries ended, on each port (bench/soak_hostile.py):", "",
             "| client | port | outcomes |", "|---|---|---|"]
    lines += [f"| {kind} | {target} | {describe(outcomes)} |" for (kind, target), outcomes in sorted(hostile.counts.items())]
    lines += ["", "What the gateway counted (its answers on the policy server by outcome, the connections it closed, "
              "the policy API's requests refused past its bound):", ""]
    lines += [f"- `{series}` {n}" for series, n in traffic.get("counters", {}).items() if n]
    loaded = [s for s in samples if not s.get("quiet")]
    lines += ["", "## What is in progress", "",
              "Each must read 0 once the traffic stops. Before: the sample before any traffic; at the end: right after the "
              "clients closed their connections; quiet: after a minute of no traffic.", "",
              "| gauge | before | most at a sample | at the end | quiet | verdict |", "|---|---:|---:|---:|---:|---|"]
    for name in GAUGES:
        if name in samples[-1]:
            quiet = samples[-1][name]
            lines.append(f"| {name} | {samples[0][name]} | {max(s[name] for s in loaded)} | {loaded[-1][name]} | {quiet} | "
                         f"{'0 again' if quiet == 0 else '**stuck**'} |")
    first, quiet = samples[0], samples[-1]
    lines += ["", f"After the quiet minute against before any traffic: RSS {first['rss_mib']} → {quiet['rss_mib']} MiB, "
              f"heap after GC {first['heap_after_gc_mib']} → {quiet['heap_after_gc_mib']} MiB, threads {first['threads']} → "
              f"{quiet['threads']}, metric series {first['metric_series']} → {quiet['metric_series']}.", ""]
    lines += log_section(log_file)
    return lines + ["## Bounded measures", ""]


def log_section(log_file: Path) -> list[str]:
    """The gateway's ERROR and WARN lines, grouped by logger and message (numbers left out), and its stack traces."""
    warns, errors, traces = collections.Counter(), collections.Counter(), 0
    for line in log_file.read_text(errors="replace").splitlines():
        level = re.search(r"^\S+\s+(WARN|ERROR)\s", line)
        if level:
            logger, _, message = line.partition(" : ")
            key = f"{logger.split()[-1]}: {re.sub(r'[0-9]+', 'N', message)[:160]}"
            (warns if level.group(1) == "WARN" else errors)[key] += 1
        elif re.match(r"^\s+at |^Caused by: |^[\w.$]+(Exception|Error)(: |$)", line):
            traces += 1
    lines = ["## The gateway's log", "",
             f"{sum(errors.values())} ERROR lines, {traces} lines of stack traces, {sum(warns.values())} WARN lines:", ""]
    lines += [f"- {n} × {'ERROR' if key in errors else 'WARN'} `{key}`" for key, n in (errors + warns).most_common()]
    return lines + [""]


def describe(counts: dict) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items(), key=lambda item: -item[1]))


if __name__ == "__main__":
    main()
