#!/usr/bin/env python3
"""The soak test: the gateway under a steady load for a long time, with every measure that could
grow without bound sampled from start to end. Writes bench/soak.md.

    bench/soak.py                  30 minutes at 500 requests/s
    bench/soak.py --minutes 3      a short run (report in target/bench/soak-short.md)

Run ``./mvnw -DskipTests package`` first, or let bench/run.sh's build do it. The gateway runs from
the product jar with the product's JVM flags and the benchmark's chain (a 10,000-glob denylist and
static modules); wrk sends a mix of spam-checker questions from ever-new users and rooms, and one
malformed request in a hundred (bench/lua/soak.lua).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
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
    args = parser.parse_args()
    report = REPO / "bench" / "soak.md" if args.minutes >= 30 else OUT / "soak-short.md"
    java = os.environ.get("JAVA") or sorted(glob.glob("/usr/lib/jvm/*25*/bin/java"))[0]
    jar = args.jar or sorted(glob.glob(str(REPO / "target" / "matrix-policy-gateway-*.jar")))[0]
    subprocess.run([sys.executable, str(REPO / "bench" / "make_fixtures.py"), str(OUT / "fixtures")], check=True,
                   stdout=subprocess.DEVNULL)
    flags = re.search(r"<gateway.jvm.flags>(.*)</gateway.jvm.flags>", (REPO / "pom.xml").read_text()).group(1)
    port, management = 18290, 18291
    log = open(OUT / "soak-gateway.log", "wb")
    gateway = subprocess.Popen([java, *flags.split(), "-jar", jar, f"--server.port={port}",
                                f"--management.server.port={management}",
                                f"--spring.config.additional-location=file:{OUT / 'fixtures' / 'gateway.yml'}"],
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
            time.sleep(args.interval)
        samples.append(sample(java, gateway.pid, management, time.monotonic() - began))
        traffic = json.loads([line for line in load.stdout.read().splitlines() if line.startswith("{")][-1])
    finally:
        gateway.terminate()
        gateway.wait(timeout=60)
    write(report, samples, traffic, args, flags)
    print(report.read_text())


def wait_ready(management: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{management}/actuator/health/readiness", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the gateway did not start: see target/bench/soak-gateway.log")


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


def write(report: Path, samples: list, traffic: dict, args: argparse.Namespace, flags: str) -> None:
    warm = next((s for s in samples if s["seconds"] >= 60), samples[0])
    last = samples[-1]
    lines = ["# Soak test", "", f"Written by `bench/soak.py` on {time.strftime('%Y-%m-%d', time.gmtime())}: "
             f"{args.minutes:g} minutes at a paced {args.rate} requests/s (8 connections), JVM flags `{flags}`; "
             f"{traffic['requests']} requests, {traffic['errors']} socket errors, {traffic['non_2xx']} non-2xx answers "
             "(the malformed 1% and the denylist's refusals answer 400 and 403).", "",
             "| measure | after 1 minute | at the end | allowed growth | verdict |", "|---|---:|---:|---:|---|"]
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
