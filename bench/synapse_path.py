"""The whole path through a real Synapse 1.67, from a client's ``PUT /send`` to its answer, with
(a) no module, (b) an in-process module doing the gateway chain's check (bench/inprocess_module.py),
and (c) our module and the packaged gateway (a `user_denylist` and a `content_rules` keyword rule).

Run by bench/synapse-path.sh (which builds the jar first) with Debian's python3, whose packages are
Synapse's dependencies. Everything comes from the e2e harness (e2e/harness: Synapse from the shared
tarball, its configuration, the client; synapse-module/tests/gateway_process.py: the gateway).

The three homeservers run side by side for the whole run, each with its own SQLite database, and
are measured one at a time in alternating rounds (a, b, c, a, b, c, ...): each has the same history
(the same number of events in its room) when its turn comes, and slow drifts of the shared machine
fall on all three alike. One client, one keep-alive connection, one send at a time with a pause
between sends: latency, not throughput.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
sys.path.insert(0, str(REPO / "e2e"))
sys.path.insert(0, str(REPO / "synapse-module" / "tests"))

import gateway_process  # noqa: E402
from harness import synapse as homeservers  # noqa: E402
from harness.client import Homeserver, MatrixError, User, q  # noqa: E402

SERVER_NAME = "bench.test"
TOKEN = "bench-synapse-path-token"
WORKDIR = REPO / "target" / "bench-synapse-path"

# The denylist: exact IDs on several servers (two of them local, used below to prove the check
# runs) and two globs.
DENIED_USERS = ([f"@spammer-{i:02d}:{SERVER_NAME}" for i in range(1, 3)]
                + [f"@spammer-{i:02d}:{server}" for i in range(1, 17)
                   for server in ("matrix.example", "chat.example", "evil.example")]
                + ["*:spam.example", "@bot-*:*"])
# 100 keywords: 50 words, and "free" before each of them.
WORDS = ("airdrop giveaway casino jackpot lottery viagra cialis bitcoin ethereum usdt dogecoin presale "
         "whitelist mintpass nft metamask seedphrase walletconnect forex binaryoptions payday loan "
         "refinance onlyfans camgirl escort xxx porn webcam dating hookup replica rolex gucci pharmacy "
         "pills weightloss ketodiet cryptosignals pump moonshot 100x rugpull ponzi pyramid "
         "mlm cashapp venmoflip guaranteed profits").split()
KEYWORDS = WORDS + [f"free {word}" for word in WORDS]
INNOCENT = ("Hi all, the minutes of Tuesday's meeting are on the wiki now. Next week we look at the "
            "build times again and at the flaky test in the importer; bring your numbers. Message {n}.")
REFUSED_TEXT = "Claim your FREE airdrop before Friday"


def gateway_config() -> str:
    users = "\n".join(f'          - "{user}"' for user in DENIED_USERS)
    keywords = ", ".join(json.dumps(keyword) for keyword in KEYWORDS)
    return f"""
policy-gateway:
  server-name: "{SERVER_NAME}"
  auth:
    token-file: TOKEN_FILE
  modules:
    - module: user_denylist
      name: denylist
      config:
        callbacks: [check_event_for_spam]
        users:
{users}
    - module: content_rules
      name: content
      config:
        callbacks: [check_event_for_spam]
        rules:
          - name: spam-words
            keywords: [{keywords}]
"""


def image_jvm_options() -> List[str]:
    """The container image's JVM flags (its Dockerfile's JAVA_TOOL_OPTIONS), as bench/*.sh use them."""
    found = re.search(r'^ENV JAVA_TOOL_OPTIONS="(.*)"$', (REPO / "Dockerfile").read_text(), re.MULTILINE)
    return found.group(1).split() if found else []


class Variant:
    def __init__(self, key: str, label: str, synapse: homeservers.Synapse) -> None:
        self.key = key
        self.label = label
        self.synapse = synapse
        self.hs = Homeserver(synapse.url, synapse.server_name)
        self.rounds: List[List[float]] = []  # milliseconds, one list per round
        self.cpu: List[float] = []  # Synapse's CPU milliseconds per send, one per round
        self.checks: Dict[str, str] = {}
        self.user: User
        self.room: str

    def prepare(self) -> None:
        self.user = self.hs.register("alice")
        self.room = self.user.create_room(preset="public_chat", name="bench")

    def confirm_checks(self) -> None:
        """What a listed sender (exact ID, then glob) and a keyword message get: refused by (b) and
        (c), stored by (a)."""
        for localpart in ("spammer-01", "bot-42"):
            sender = self.hs.register(localpart)
            sender.join(self.room)
            self.checks[f"sender @{localpart}"] = _outcome(sender, self.room, "Hello there, a plain message")
        self.checks["keyword message"] = _outcome(self.user, self.room, REFUSED_TEXT)

    def sends(self, count: int, pause: float, start: int) -> List[float]:
        """``count`` sends of an innocent message on one keep-alive connection; their round trips (ms)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.synapse.port, timeout=60)
        headers = {"Authorization": "Bearer " + self.user.token, "Content-Type": "application/json"}
        prefix = f"/_matrix/client/v3/rooms/{q(self.room)}/send/m.room.message/"
        times = []
        try:
            for n in range(start, start + count):
                body = json.dumps({"msgtype": "m.text", "body": INNOCENT.format(n=n)})
                began = time.perf_counter()
                connection.request("PUT", prefix + uuid.uuid4().hex, body, headers)
                response = connection.getresponse()
                answer = response.read()
                elapsed = time.perf_counter() - began
                if response.status != 200 or b'"event_id"' not in answer:
                    raise RuntimeError(f"{self.label}: send {n} answered {response.status} {answer[:300]!r}")
                times.append(elapsed * 1000)
                time.sleep(pause)
        finally:
            connection.close()
        return times


def _outcome(user: User, room: str, text: str) -> str:
    try:
        user.say(room, text)
        return "stored (200)"
    except MatrixError as refused:
        return f"refused ({refused.status} {refused.errcode})"


def cpu_ms(pid: int) -> float:
    """User plus system CPU time of a process, in milliseconds (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def machine() -> Dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    java = subprocess.run([gateway_process.artifacts()[0], "-version"], capture_output=True, text=True).stderr
    return {"cpu": f"{os.cpu_count()} × {cpu}", "memory": f"{int(memory) // 1024 // 1024} GiB",
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "java": java.splitlines()[0] if java else "?", "kernel": platform.release()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few sends per variant, to prove the script works")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 5)))
    parser.add_argument("--sends", type=int, default=int(os.environ.get("SENDS", 500)), help="timed sends per round")
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("WARMUP", 200)),
                        help="untimed sends per variant before the first round")
    parser.add_argument("--round-warmup", type=int, default=int(os.environ.get("ROUND_WARMUP", 20)),
                        help="untimed sends at the start of every round")
    parser.add_argument("--pause-ms", type=float, default=float(os.environ.get("PAUSE_MS", 10)),
                        help="pause after each answer")
    parser.add_argument("--report", type=Path, default=REPO / "target" / "bench-synapse-path.md")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.sends, args.warmup, args.round_warmup = 2, 10, 5, 2
        args.report = WORKDIR / "report-smoke.md"

    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    installation = homeservers.install()
    installation.pythonpath.append(BENCH)  # for inprocess_module
    load_before = os.getloadavg()
    began = time.monotonic()

    jvm = image_jvm_options()
    gateway = gateway_process.start(gateway_config(), WORKDIR / "gateway", TOKEN, jvm_options=jvm)
    variants: List[Variant] = []
    try:
        shim = {"module": "matrix_policy_gateway_shim.PolicyGatewayModule",
                "config": {"base_url": gateway.url, "token": TOKEN, "timeout": "10s"}}
        inprocess = {"module": "inprocess_module.DenylistAndKeywords",
                     "config": {"users": DENIED_USERS, "keywords": KEYWORDS}}
        for key, label, modules in (("a", "no module", []), ("b", "in-process module", [inprocess]),
                                    ("c", "our module + gateway", [shim])):
            synapse = homeservers.Synapse(installation, key, WORKDIR / f"synapse-{key}", modules,
                                          server_name=SERVER_NAME)
            variants.append(Variant(key, label, synapse))
            synapse.start()
        for variant in variants:
            variant.prepare()
            variant.confirm_checks()
            print(f"{variant.key} ({variant.label}): {variant.checks}", flush=True)
        expected = {"a": "stored (200)", "b": "refused (403 M_FORBIDDEN)", "c": "refused (403 M_FORBIDDEN)"}
        wrong = [(v.key, what, got) for v in variants for what, got in v.checks.items() if got != expected[v.key]]
        if wrong:
            raise RuntimeError(f"the checks did not answer as expected: {wrong}")
        registered = [line.split(" - ")[-1] for line in variants[2].synapse.log_lines()
                      if "matrix_policy_gateway_shim" in line and "Registered" in line]

        pause = args.pause_ms / 1000
        counter = 0
        for variant in variants:
            variant.sends(args.warmup, pause, counter)
        counter += args.warmup
        decisions_before = gateway.metric("policy_decisions_total", callback="check_event_for_spam")
        gateway_cpu_before = cpu_ms(gateway.process.pid)
        for r in range(args.rounds):
            for variant in variants:
                variant.sends(args.round_warmup, pause, counter)
                cpu_before = cpu_ms(variant.synapse.process.pid)
                times = variant.sends(args.sends, pause, counter + args.round_warmup)
                variant.cpu.append((cpu_ms(variant.synapse.process.pid) - cpu_before) / args.sends)
                variant.rounds.append(times)
                print(f"round {r + 1} {variant.key}: p50 {statistics.median(times):.2f} ms, "
                      f"mean {statistics.fmean(times):.2f} ms", flush=True)
            counter += args.round_warmup + args.sends
        decisions = gateway.metric("policy_decisions_total", callback="check_event_for_spam") - decisions_before
        gateway_cpu = cpu_ms(gateway.process.pid) - gateway_cpu_before
        timed = args.rounds * (args.round_warmup + args.sends)  # every send of variant c reached the gateway
        load_after = os.getloadavg()
        report = render(args, variants, machine(), installation.version, jvm, registered, load_before, load_after,
                        decisions, timed, gateway_cpu, time.monotonic() - began)
    finally:
        for variant in variants:
            variant.synapse.stop()
        gateway.stop()
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    print(report)
    print(f"report: {args.report}")
    return 0


def render(args: argparse.Namespace, variants: List[Variant], host: Dict[str, str], version: str, jvm: List[str],
           registered: List[str], load_before: Tuple[float, ...], load_after: Tuple[float, ...], decisions: float,
           timed: int, gateway_cpu: float, seconds: float) -> str:
    base = variants[0]
    lines = [
        "# The send path through a real Synapse: no module, an in-process module, our module + gateway",
        "",
        f"Written by `bench/synapse-path.sh{' --smoke' if args.smoke else ''}` in {seconds / 60:.1f} minutes. "
        f"Synapse {version.split()[0]} (pure Python, SQLite, loopback), Debian's {host['python']}; "
        f"gateway: the packaged jar on {host['java']} with the image's flags `{' '.join(jvm)}`.",
        "",
        f"Machine: {host['cpu']}, {host['memory']}, Linux {host['kernel']}; load average "
        f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f} (1/5/15 min) at the start, "
        f"{load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f} at the end.",
        "",
        f"Method: one user, one public room per homeserver; `PUT /_matrix/client/v3/rooms/{{room}}/send/"
        f"m.room.message/{{txn}}` of a ~{len(INNOCENT)}-character message that nothing refuses, timed from "
        f"before the request to the last byte of the answer, on one keep-alive connection, one send at a "
        f"time with {args.pause_ms:g} ms between an answer and the next send. {args.warmup} untimed sends per "
        f"homeserver first; then {args.rounds} rounds of a, b, c, each of {args.round_warmup} untimed and "
        f"{args.sends} timed sends.",
        "",
        "## Round trip of one send (all rounds pooled)",
        "",
        "| variant | sends | p50 ms | p90 ms | p99 ms | mean ms | Synapse CPU ms per send |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for v in variants:
        pooled = [t for times in v.rounds for t in times]
        lines.append(f"| {v.key}. {v.label} | {len(pooled)} | {percentile(pooled, 50):.2f} | "
                     f"{percentile(pooled, 90):.2f} | {percentile(pooled, 99):.2f} | {statistics.fmean(pooled):.2f} | "
                     f"{statistics.median(v.cpu):.2f} |")
    lines += ["", "## Added latency over (a): medians of the per-round differences", "",
              "| variant | p50 | p90 | p99 | mean | per round (p50) |", "|---|---:|---:|---:|---:|---|"]
    for v in variants[1:]:
        def added(stat: Any) -> List[float]:
            return [stat(mine) - stat(theirs) for mine, theirs in zip(v.rounds, base.rounds)]
        p50 = added(lambda t: percentile(t, 50))
        lines.append(f"| {v.key}. {v.label} | {statistics.median(p50):+.2f} ms | "
                     f"{statistics.median(added(lambda t: percentile(t, 90))):+.2f} ms | "
                     f"{statistics.median(added(lambda t: percentile(t, 99))):+.2f} ms | "
                     f"{statistics.median(added(statistics.fmean)):+.2f} ms | "
                     f"{', '.join(f'{d:+.2f}' for d in p50)} |")
    lines += ["", "## Per round", "", "| round | " + " | ".join(f"{v.key} p50 / p99 ms" for v in variants) + " |",
              "|---|" + "---:|" * len(variants)]
    for r in range(len(base.rounds)):
        lines.append(f"| {r + 1} | " + " | ".join(
            f"{percentile(v.rounds[r], 50):.2f} / {percentile(v.rounds[r], 99):.2f}" for v in variants) + " |")
    lines += ["", "## The checks are real", "",
              f"Each homeserver, before the timing: what a listed sender (an exact ID, then a glob) and a "
              f"message with a keyword got. Denylist: {len(DENIED_USERS) - 2} exact IDs and 2 globs; "
              f"{len(KEYWORDS)} keywords.", "",
              "| variant | " + " | ".join(variants[0].checks) + " |", "|---|" + "---|" * len(variants[0].checks)]
    for v in variants:
        lines.append(f"| {v.key}. {v.label} | " + " | ".join(v.checks.values()) + " |")
    lines += ["",
              f"The gateway counted {decisions:.0f} `check_event_for_spam` decisions during the rounds, for "
              f"{timed} sends to (c) (timed and per-round warm-up): one call per send. Gateway CPU over the "
              f"rounds (while (a) and (b) were timed too): {gateway_cpu:.0f} ms, {gateway_cpu / max(timed, 1):.2f} ms per send to (c).",
              ""]
    if registered:
        lines += ["Our module on (c) registered: " + "; ".join(f"`{line}`" for line in registered), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
