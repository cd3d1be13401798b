#!/usr/bin/env python3
"""A reload storm under load: the packaged gateway reloads its configuration every 0.2 to 1 s, a
thousand times or more, while a paced stream of legitimate requests is answered, and every measure
that could grow with the number of reloads is taken at the start, during and at the end of the
storm, and once more after a quiet minute. Writes bench/reload-storm.md (or --report).

    bench/reload_storm.py --jar /tmp/gw.jar                    1,000 reloads, state in memory, then in Redis
    bench/reload_storm.py --jar /tmp/gw.jar --reloads 100 --state memory   a short run

Stdlib only. The chain has every module that holds resources, each exercised: a ``policy_list``
reading a file and a URL (served here), ``rate_limits`` and ``content_rules`` (a ``repeated``
rule) with their state in memory or in Redis (``redis-server``, started here on --redis-port), an
``http`` module calling a policy service, an ``audit_webhook`` posting ``on_user_login`` to a
receiver, a ``threepid_checker`` asking a directory and a ``password_file``. Between reloads, modules
are renamed, added and removed, the list file is replaced, the password and list files go missing
for a moment; every tenth configuration is invalid, and must be refused with the serving generation
unchanged. Each version is written beside the file and renamed over it, then applied at once by
``POST /actuator/reload`` (the file watcher sees it too, and finds it applied).
"""

from __future__ import annotations

import argparse
import collections
import glob
import http.client
import http.server
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import soak
from soak import replace  # a file written whole, by renaming a new one over it, as a ConfigMap update does

REPO = Path(__file__).resolve().parents[1]
TOKEN, ADMIN = "storm-token", "storm-admin-token"
# bcrypt, cost 4, of "wonderland" (the password_file tests' own hash)
ALICE = "$2a$04$bVxgsC1beU3YqMsPWx.bJOU8Rlm9r1n4y6Lbn3Ah2yK/hrdLBxOMW"
# The shape of the configuration every measure is taken on (the same modules under the same names)
SHAPE = 11
FLAGS = ["-XX:+UseSerialGC", "-Xmn64m", "-XX:+ExitOnOutOfMemoryError", "-Xmx307m"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jar", required=True, help="the packaged gateway (a copy, so the build may go on)")
    parser.add_argument("--reloads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=60, help="legitimate requests/s, paced")
    parser.add_argument("--state", choices=["memory", "redis", "both"], default="both")
    parser.add_argument("--port", type=int, default=29290)
    parser.add_argument("--redis-port", type=int, default=29279)
    parser.add_argument("--quiet", type=float, default=60, help="seconds without reloads before the last measure")
    parser.add_argument("--folder", default="/tmp/reload-storm")
    parser.add_argument("--report", default=str(REPO / "bench" / "reload-storm.md"))
    args = parser.parse_args()
    runs = []
    for state in (["memory", "redis"] if args.state == "both" else [args.state]):
        runs.append(Storm(args, state).run())
    write(Path(args.report), args, runs)
    print(Path(args.report).read_text())


# ---------------------------------------------------------------------------------------------
# The local services: each counts the connections it has open, so the report can say whether the
# gateway's closed generations left theirs behind.

class Counted(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()

    def setup(self) -> None:
        super().setup()
        with self.lock:
            self.server.open += 1
            self.server.opened += 1

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.lock:
                self.server.open -= 1

    def reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self) -> None:  # the http module's policy service, and the webhook receiver
        self.body()
        with self.lock:
            self.server.requests += 1
        self.reply(200, b'{"result": "NOT_SPAM"}' if self.server.name == "policy service" else b"{}")

    def do_GET(self) -> None:  # the 3PID directory, and the policy list's URL
        with self.lock:
            self.server.requests += 1
        if self.server.name == "list URL":
            self.reply(200, self.server.content().encode(), "text/plain")
        else:
            self.reply(200, b'{"hs": "example.com"}')

    def log_message(self, *args) -> None:
        pass


def serve(name: str, content=None) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counted)
    server.daemon_threads = True
    server.name, server.open, server.opened, server.requests, server.content = name, 0, 0, 0, content
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------------------------------------

class Storm:
    def __init__(self, args: argparse.Namespace, state: str) -> None:
        self.args, self.state = args, state
        self.folder = Path(args.folder) / state
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.config, self.bans, self.passwords = (self.folder / n for n in ("gateway.yml", "bans.txt", "passwords.txt"))
        self.service_token = self.folder / "service.token"
        self.list_version = 0
        self.services = {name: serve(name, self.url_list if name == "list URL" else None)
                         for name in ("policy service", "webhook receiver", "3PID directory", "list URL")}
        self.management = args.port + 1
        self.stop = threading.Event()
        self.answers = collections.Counter()
        self.wrong = collections.Counter()
        self.wrong_examples: dict = {}
        self.reload_results = collections.Counter()
        self.refusals_checked = self.refusals_kept = 0
        self.samples: list = []
        self.lock = threading.Lock()

    # --- what the gateway reads -----------------------------------------------------------------

    def url_list(self) -> str:
        return f"ban server url-{self.list_version % 3}.example from the URL\nban user @urlbanned:bad.example spam\n"

    def write_bans(self) -> None:
        self.list_version += 1
        lines = [f"ban user @spammer{self.list_version}-{n}:spam.example version {self.list_version}" for n in range(200)]
        replace(self.bans, "\n".join(["ban user @banned:bad.example always", *lines]) + "\n")

    def write_config(self, version: int, invalid: bool, shape: int | None = None) -> None:
        """Configuration number ``version``; its modules' names and which ones are there follow ``shape``
        (the version unless given), so the measures are taken on configurations of the same shape."""
        shape = version if shape is None else shape
        service, webhook, directory, url = (self.services[n].server_address[1] for n in
                                            ("policy service", "webhook receiver", "3PID directory", "list URL"))
        rename = shape // 7 % 3  # a rename every 7 versions
        modules = [
            {"module": "policy_list", "name": f"bans-{rename}", "config": {"sources": [
                {"name": "local", "file": str(self.bans), "check-interval": "1s"},
                {"name": "remote", "url": f"http://127.0.0.1:{url}/bans.txt"}]}},
            {"module": "rate_limits", "name": "floods", "on-failure": "fail-open", "config": {
                "events": {"per-sender": {"capacity": 1000 + version % 2, "period": "10s"}},
                "invites": {"per-sender": {"capacity": 1000, "period": "1m"}},
                "room-creation": {"per-sender": {"capacity": 1000, "period": "1m"}}}},
            {"module": "content_rules", "name": "content", "on-failure": "fail-open", "config": {
                "callbacks": ["check_event_for_spam"],
                "rules": [{"name": f"words-{rename}", "keywords": ["spamword%d" % n for n in range(50)]},
                          {"name": "links", "links": {"denied-domains": ["spam.example"], "max-count": 10 + version}},
                          {"name": "repeats", "repeated": {"max-rooms": 3, "window": "1m"}}]}},
            {"module": "http", "name": f"policy-service-{rename}", "timeout": "5s", "config": {
                "url": f"http://127.0.0.1:{service}/v1", "token-file": str(self.service_token), "timeout": "1s",
                "callbacks": ["user_may_create_room"]}},
            {"module": "audit_webhook", "name": "audit", "config": {
                "url": f"http://127.0.0.1:{webhook}/ingest", "callbacks": ["on_user_login"],
                "timeout": f"{2 + version % 3}s", "shutdown-grace": "1s"}},
            {"module": "threepid_checker", "name": "directory", "config": {
                "url": f"http://127.0.0.1:{directory}/check", "cache-ttl": "0s", "cache-max-size": 100 + version % 4}},
            {"module": "password_file", "name": "passwords", "config": {
                "file": str(self.passwords), "reload-check-interval": "1s"}},
        ]
        if shape % 2 == 0:  # added and removed every other version, under four names in turn
            modules.insert(1, {"module": "user_denylist", "name": f"extra-{shape % 8}",
                               "config": {"users": [f"@nobody{version}:nowhere.example"]}})
        if shape % 3 == 0:  # a second http module, added and removed
            modules.append({"module": "http", "name": "sidecar", "config": {
                "url": f"http://127.0.0.1:{service}/v1", "callbacks": ["user_may_invite"]}})
        gateway = {"server-name": "example.com", "auth": {"token": TOKEN}, "admin": {"token": ADMIN}, "modules": modules}
        if self.state == "redis":
            gateway["state"] = {"redis": {"url": f"redis://127.0.0.1:{self.args.redis_port}", "key-prefix": "storm:"}}
        if invalid:  # in turn: a negative capacity, an unknown key, a file that does not parse
            kind = version // 10 % 3
            if kind == 0:
                for m in modules:
                    if m["module"] == "rate_limits":
                        m["config"]["events"]["per-sender"]["capacity"] = -5
            elif kind == 1:
                for m in modules:
                    if m["module"] == "threepid_checker":
                        m["config"]["cache-tll"] = "5s"
        config = {"policy-gateway": gateway,
                  "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}
        text = json.dumps(config, indent=1)  # JSON is YAML
        if invalid and version // 10 % 3 == 2:
            text = text.replace('"modules": [', '"modules": [[', 1)
        replace(self.config, text)

    # --- the gateway ----------------------------------------------------------------------------

    def start(self) -> None:
        self.write_bans()
        replace(self.passwords, f"alice:{ALICE}\n")
        replace(self.service_token, "service-token-1\n")
        self.write_config(1, False)
        java = os.environ.get("JAVA") or sorted(glob.glob("/usr/lib/jvm/*25*/bin/java"))[0]
        self.jcmd = str(Path(java).parent / "jcmd")
        if self.state == "redis":
            self.redis = subprocess.Popen(["redis-server", "--port", str(self.args.redis_port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
            time.sleep(0.5)
        self.log_path = self.folder / "gateway.log"
        self.gateway = subprocess.Popen([java, *FLAGS, "-jar", str(Path(self.args.jar).resolve()), f"--server.port={self.args.port}",
                                         f"--management.server.port={self.management}",
                                         f"--spring.config.additional-location=file:{self.config}"],
                                        # its own folder: Spring Boot would read the checkout's application.yml too
                                        cwd=self.folder, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)
        soak.wait_ready(self.management, self.gateway, self.log_path)

    def admin(self, method: str, path: str) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.management, timeout=60)
        try:
            connection.request(method, path, headers={"Authorization": f"Bearer {ADMIN}"})
            response = connection.getresponse()
            text = response.read().decode()
            return response.status, (json.loads(text) if text.startswith("{") else {"text": text})
        finally:
            connection.close()

    def generation(self) -> int:
        return self.admin("GET", "/actuator/reload")[1]["generation"]

    # --- the legitimate load ----------------------------------------------------------------------

    def requests(self, n: int):
        """The n-th request: (kind, path, body, expected status, expected answer text)."""
        user = f"@user{n}:example.com"
        kind = n % 8
        if kind in (0, 1):
            return ("clean message", "/v1/spam_checker/check_event_for_spam",
                    {"event": {"event_id": f"$e{n}", "sender": user, "room_id": f"!r{n}:example.com",
                               "type": "m.room.message", "content": {"msgtype": "m.text", "body": f"hello {n}"}}},
                    200, '"NOT_SPAM"')
        if kind == 2:
            return ("spam message", "/v1/spam_checker/check_event_for_spam",
                    {"event": {"event_id": f"$e{n}", "sender": user, "room_id": f"!r{n}:example.com",
                               "type": "m.room.message", "content": {"msgtype": "m.text", "body": "buy spamword7 now"}}},
                    403, "M_FORBIDDEN")
        if kind == 3:
            return ("banned invite", "/v1/spam_checker/user_may_invite",
                    {"inviter": "@banned:bad.example", "invitee": user, "room_id": f"!r{n}:example.com"}, 403, "M_FORBIDDEN")
        if kind == 4:
            return ("room creation (http)", "/v1/spam_checker/user_may_create_room", {"user_id": user}, 200, '"NOT_SPAM"')
        if kind == 5:
            return ("3PID (directory)", "/v1/password_auth_provider/is_3pid_allowed",
                    {"medium": "email", "address": f"u{n}@example.org", "registration": True}, 200, "true")
        if kind == 6:
            return ("password login", "/v1/password_auth_provider/check_auth",
                    {"user": "@alice:example.com", "login_type": "m.login.password",
                     "login_dict": {"password": "wonderland"}}, 200, "@alice:example.com")
        return ("login notification (webhook)", "/v1/account_validity/on_user_login",
                {"user_id": user, "auth_provider_type": "m.login.password", "auth_provider_id": None}, 200, "")

    def load(self, worker: int, workers: int) -> None:
        period = workers / self.args.rate
        connection = None
        n, due = worker, time.monotonic()
        while not self.stop.is_set():
            due += random.expovariate(1 / period)
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            kind, path, body, status, text = self.requests(n)
            n += workers
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=30)
                connection.request("POST", path, json.dumps(body),
                                   {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read().decode()
                got = response.status
            except (OSError, http.client.HTTPException) as failed:
                connection, got, answer = None, 0, type(failed).__name__
            with self.lock:
                self.answers[kind] += 1
                if got != status or text not in answer:
                    key = (kind, got, answer[:160])
                    self.wrong[key] += 1

    # --- measures --------------------------------------------------------------------------------

    def measure(self, label: str, reloads: int) -> dict:
        pid = self.gateway.pid
        # Two full collections: a JDK HttpClient that a closed instance dropped is held by the JDK's Cleaner
        # until the first one has collected its facade and the cleaner has run, so one collection still
        # counts every client dropped since the last (seen here: 135 clients after one, 11 after two).
        for _ in range(2):
            subprocess.run([self.jcmd, str(pid), "GC.run"], check=True, stdout=subprocess.DEVNULL)
            time.sleep(1)
        subprocess.run([self.jcmd, str(pid), "GC.run"], check=True, stdout=subprocess.DEVNULL)
        heap = subprocess.run([self.jcmd, str(pid), "GC.heap_info"], check=True, capture_output=True, text=True).stdout
        dump = subprocess.run([self.jcmd, str(pid), "Thread.print"], check=True, capture_output=True, text=True).stdout
        names = collections.Counter(re.sub(r"\d+", "#", m) for m in re.findall(r'^"([^"]*)"', dump, re.M))
        histogram = subprocess.run([self.jcmd, str(pid), "GC.class_histogram"], check=True, capture_output=True,
                                   text=True).stdout
        ours = {}
        for count, name in re.findall(r"^\s*\d+:\s+(\d+)\s+\d+\s+(dev\.matrixpolicy\.gateway\.\S+|jdk\.internal\.net\.http\."
                                      r"HttpClientImpl|io\.lettuce\.core\.\S+Connection\S*|java\.lang\.VirtualThread)\s", histogram, re.M):
            ours[name.removeprefix("dev.matrixpolicy.gateway.")] = int(count)
        fds = collections.Counter()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            fds[re.sub(r"\[\d+\]", "", target.split(":")[0]) if ":" in target else
                ("jar/jdk" if target.endswith((".jar", "/modules")) or "/jvm/" in target else target)] += 1
        with urllib.request.urlopen(f"http://127.0.0.1:{self.management}/actuator/prometheus", timeout=30) as r:
            metrics = r.read().decode()
        series = [line for line in metrics.splitlines() if line and not line.startswith("#")]
        def value(name: str) -> float:
            return sum(float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics, re.M))
        status = Path(f"/proc/{pid}/status").read_text()
        sample = {
            "label": label, "reloads": reloads,
            "threads": int(re.search(r"Threads:\s+(\d+)", status).group(1)),
            "thread_names": dict(names),
            # what the full collection left in the old generation (it empties the young one, which the traffic
            # refills while the measure is taken)
            "heap_after_gc_mib": round(int(re.search(r"Tenured\s+total \d+K, used (\d+)K", heap).group(1)) / 1024, 1),
            "rss_mib": int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024,
            "metric_series": len(series),
            "series_names": sorted(line.rsplit(" ", 1)[0] for line in series),
            "module_series": len({re.search(r'module="([^"]*)"', s).group(1) for s in series if 'module="' in s}),
            "fds": sum(fds.values()), "fd_kinds": dict(fds),
            "service_connections": {n: s.open for n, s in self.services.items()},
            "connections_opened": {n: s.opened for n, s in self.services.items()},
            "generation": int(value("policy_config_generation")),
            "classes": ours,
            "load_average": os.getloadavg()[0],
        }
        if self.state == "redis":
            clients = subprocess.run(["redis-cli", "-p", str(self.args.redis_port), "client", "list"],
                                     capture_output=True, text=True).stdout.splitlines()
            sample["redis_clients"] = len(clients)
        print(json.dumps({k: v for k, v in sample.items() if k not in ("thread_names", "classes", "fd_kinds", "series_names")}),
              file=sys.stderr, flush=True)
        self.samples.append(sample)
        return sample

    # --- the storm -------------------------------------------------------------------------------

    def reload(self, version: int, invalid: bool, shape: int | None = None) -> None:
        before = self.generation() if invalid else None
        self.write_config(version, invalid, shape)
        status, answer = self.admin("POST", "/actuator/reload")
        result = answer.get("result", f"HTTP {status}")
        self.reload_results[("invalid: " if invalid else "valid: ") + result] += 1
        if invalid:
            self.refusals_checked += 1
            time.sleep(0.1)
            if self.generation() == before and status == 409:
                self.refusals_kept += 1

    def churn(self, version: int) -> None:
        """Between two reloads: the list file replaced, a file the configuration names briefly gone."""
        if version % 5 == 0:
            self.write_bans()
        if version % 13 == 0:
            self.passwords.unlink()
            time.sleep(0.3)
            replace(self.passwords, f"alice:{ALICE}\n")
        if version % 17 == 0:
            self.bans.unlink()
            time.sleep(0.3)
            self.write_bans()
        if version % 23 == 0:
            replace(self.service_token, f"service-token-{version}\n")

    def run(self) -> dict:
        self.start()
        workers = 4
        threads = [threading.Thread(target=self.load, args=(w, workers), daemon=True) for w in range(workers)]
        began = time.monotonic()
        try:
            for thread in threads:
                thread.start()
            version = 1
            # warm-up: a few reloads and half a minute of load, so JIT and pools settle before the first measure
            for _ in range(10):
                version += 1
                self.reload(version, False)
                time.sleep(0.5)
            time.sleep(20)
            version += 1
            self.reload(version, False, SHAPE)
            time.sleep(5)
            self.measure("start (after 10 reloads)", 10)
            done = 0
            while done < self.args.reloads:
                version += 1
                self.churn(version)
                self.reload(version, version % 10 == 0)
                done += 1
                if done % 250 == 0 and done < self.args.reloads:
                    version += 1
                    self.reload(version, False, SHAPE)
                    time.sleep(5)
                    self.measure(f"after {done} reloads", done + 10)
                time.sleep(random.uniform(0.2, 1.0))
            version += 1
            self.reload(version, False, SHAPE)
            time.sleep(5)
            self.measure("end of the storm", done + 10)
            time.sleep(self.args.quiet)
            self.measure(f"after a quiet {self.args.quiet:g} s", done + 10)
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=40)
            self.gateway.terminate()
            try:
                self.gateway.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
            if self.state == "redis":
                self.redis.terminate()
                self.redis.wait(timeout=10)
            for server in self.services.values():
                server.shutdown()
        log = self.log_path.read_text(errors="replace").splitlines()
        # by level, logger and message, digits as #: the thread and the padding left out
        problems = collections.Counter(re.sub(r"\d+", "#", re.sub(
            r"^\S+\s+(WARN|ERROR)\s+\d+\s+---\s+\[[^]]*\]\s+\[[^]]*\]\s+(\S+)\s+:\s+", r"\1 \2: ", line))[:200]
                                       for line in log if re.search(r"\s(WARN|ERROR)\s", line))
        return {"state": self.state, "seconds": round(time.monotonic() - began), "samples": self.samples,
                "answers": dict(self.answers), "wrong": {" | ".join(map(str, k)): v for k, v in self.wrong.items()},
                "reload_results": dict(self.reload_results), "refusals_checked": self.refusals_checked,
                "refusals_kept": self.refusals_kept, "log_problems": dict(problems.most_common(40)),
                "served": {n: s.requests for n, s in self.services.items()}}


# ---------------------------------------------------------------------------------------------

def write(report: Path, args: argparse.Namespace, runs: list) -> None:
    lines = ["# Reload storm", "",
             f"Written by `bench/reload_storm.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC: "
             f"{args.reloads} reloads (one every 0.2 to 1 s, after 10 of warm-up) under a paced {args.rate:g} "
             f"legitimate requests/s, JVM flags `{' '.join(FLAGS)}`; every measure after a full GC.", ""]
    for run in runs:
        samples = run["samples"]
        first, end, last = samples[0], samples[-2], samples[-1]
        lines += [f"## State in {run['state']}", "",
                  f"{run['seconds']} s; load average {min(s['load_average'] for s in samples):.1f} to "
                  f"{max(s['load_average'] for s in samples):.1f} on {os.cpu_count()} cores.", "",
                  "| measure | " + " | ".join(s["label"] for s in samples) + " |",
                  "|---|" + "---:|" * len(samples)]
        measures = ["generation", "threads", "heap_after_gc_mib", "rss_mib", "metric_series", "module_series", "fds"]
        if "redis_clients" in first:
            measures.append("redis_clients")
        for measure in measures:
            lines.append(f"| {measure} | " + " | ".join(str(s[measure]) for s in samples) + " |")
        for name in first["service_connections"]:
            lines.append(f"| open connections at the {name} | " +
                         " | ".join(str(s["service_connections"][name]) for s in samples) + " |")
            lines.append(f"| connections opened to the {name} (total) | " +
                         " | ".join(str(s["connections_opened"][name]) for s in samples) + " |")
        lines += ["", "Thread names (digits as #) whose count changed from start to the quiet end:", ""]
        changed = sorted(set(first["thread_names"]) | set(last["thread_names"]))
        moved = [f"- `{n}`: {first['thread_names'].get(n, 0)} → {end['thread_names'].get(n, 0)} → "
                 f"{last['thread_names'].get(n, 0)}" for n in changed
                 if first["thread_names"].get(n, 0) != last["thread_names"].get(n, 0)]
        lines += moved or ["- none"]
        lines += ["", "Metric series that came or went from start to the quiet end (all others were there throughout):", ""]
        came = sorted(set(last["series_names"]) - set(first["series_names"]))
        went = sorted(set(first["series_names"]) - set(last["series_names"]))
        lines += [f"- came: `{n}`" for n in came] + [f"- went: `{n}`" for n in went] or ["- none"]
        lines += ["", "File descriptors by kind (start → end → quiet):", ""]
        kinds = sorted(set(first["fd_kinds"]) | set(last["fd_kinds"]))
        lines += [f"- `{k}`: {first['fd_kinds'].get(k, 0)} → {end['fd_kinds'].get(k, 0)} → {last['fd_kinds'].get(k, 0)}"
                  for k in kinds]
        lines += ["", "Live instances of the gateway's classes whose count changed (start → end → quiet; "
                  "`config.Generation` among them when it moves):", ""]
        classes = sorted(set(first["classes"]) | set(last["classes"]))
        grown = [f"- `{c}`: {first['classes'].get(c, 0)} → {end['classes'].get(c, 0)} → {last['classes'].get(c, 0)}"
                 for c in classes if last["classes"].get(c, 0) > first["classes"].get(c, 0)]
        lines += grown or ["- none grew"]
        lines += ["", f"Live `config.Generation` objects: {first['classes'].get('config.Generation', 0)} → "
                  f"{end['classes'].get('config.Generation', 0)} → {last['classes'].get('config.Generation', 0)}.", "",
                  "Reloads: " + ", ".join(f"{k} {v}" for k, v in sorted(run["reload_results"].items())) +
                  f"; invalid configurations refused with the serving generation unchanged: "
                  f"{run['refusals_kept']} of {run['refusals_checked']}.", "",
                  "Legitimate requests: " + ", ".join(f"{k} {v}" for k, v in sorted(run["answers"].items())) +
                  f"; {sum(run['answers'].values())} in all, {sum(run['wrong'].values())} answered otherwise than expected"
                  + (":" if run["wrong"] else "."), ""]
        lines += [f"- {v} × {k}" for k, v in sorted(run["wrong"].items(), key=lambda kv: -kv[1])]
        lines += ["", "Requests the local services served: " +
                  ", ".join(f"{k} {v}" for k, v in run["served"].items()) + ".", "",
                  "WARN and ERROR lines of the gateway's log, by kind (digits as #):", ""]
        lines += [f"- {v} × `{k}`" for k, v in run["log_problems"].items()] or ["- none"]
        lines.append("")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n")
    (Path(args.folder) / "reload-storm.json").write_text(json.dumps(runs, indent=1))  # every sample, in full


if __name__ == "__main__":
    main()
