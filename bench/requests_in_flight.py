#!/usr/bin/env python3
"""Whether N policy API requests held in flight at once run the gateway's heap out (docs/operations.md#requests-in-flight).

    bench/requests_in_flight.py run --jar JAR --n 6000 [--hold 30] [--port 29710] [--service-port 29720] [--label NAME]

Starts a slow policy service (this script's ``service`` command, its own process: thousands of
threads in the sending process would starve it) that holds every request ``--hold`` seconds but the
probe's, and the gateway from the jar with the image's JVM flags and bench/body_memory.py's chain
(``content_rules``, then an ``http`` module forwarding to that service). Sends N realistic 2 KB
``check_event_for_spam`` requests at once, each on its own connection, and meanwhile, every second, a
homeserver's other request (which the service answers at once) and ``/actuator/health``. Once the
service holds (nearly) all of them, or at 60 % of the hold, counts the live heap with ``jcmd
GC.class_histogram`` (a full collection). Prints one JSON line: the answers by kind, the live heap,
the most any collection left, the probes' answers, whether the JVM died.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import body_memory
import soak

def service(port: int, hold: float) -> None:
    """The http module's service (bench/body_memory.py's), counting the requests it holds; GET answers how many."""
    threading.stack_size(256 * 1024)
    lock, held = threading.Lock(), {"inflight": 0, "most": 0}

    class Holding(body_memory.PolicyService):
        def result(self, request: bytes) -> object:
            with lock:
                held["inflight"] += 1
                held["most"] = max(held["most"], held["inflight"])
            try:
                return super().result(request)
            finally:
                with lock:
                    held["inflight"] -= 1

        def do_GET(self) -> None:
            body = json.dumps(held).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(body_memory.Service):
        request_queue_size = 4096  # thousands of the gateway's connections at once

    Holding.hold = hold
    Server(("127.0.0.1", port), Holding).serve_forever()


def tally(answers: list[tuple[str, float]]) -> dict:
    kinds: dict[str, int] = {}
    for kind, _ in answers:
        kinds[kind] = kinds.get(kind, 0) + 1
    ok = sorted(seconds for kind, seconds in answers if kind == "200")
    return {"kinds": kinds, "median_ms": round(ok[len(ok) // 2] * 1000) if ok else None,
            "max_ms": round(ok[-1] * 1000) if ok else None}


def get(url: str) -> tuple[str, float]:
    began = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.status), time.monotonic() - began
    except Exception as failed:  # the answer's kind is what is counted
        return type(failed).__name__, time.monotonic() - began


def run(args: argparse.Namespace) -> None:
    threading.stack_size(256 * 1024)
    folder = Path(args.work) / f"{args.label}-{args.n}"
    folder.mkdir(parents=True, exist_ok=True)
    slow = subprocess.Popen([sys.executable, __file__, "service", "--port", str(args.service_port), "--hold", str(args.hold)],
                            start_new_session=True)
    gateway, gc_log, log_path = body_memory.start_gateway(args, folder, args.service_port)
    management, jcmd = args.port + 1, str(Path(args.java).parent / "jcmd")
    result: dict = {"label": args.label, "n": args.n, "hold_s": args.hold}
    held = lambda: json.loads(urllib.request.urlopen(f"http://127.0.0.1:{args.service_port}/", timeout=5).read())
    try:
        soak.wait_ready(management, gateway, log_path)
        path, make = body_memory.SCENARIOS["realistic"]
        body = make()
        answers: list[tuple[str, float]] = []
        connected = threading.Barrier(args.n + 1)
        senders = [threading.Thread(target=lambda: answers.append(
            body_memory.post(args.port, path, body, timeout=args.hold + 120, connected=connected)), daemon=True)
            for _ in range(args.n)]
        for sender in senders:
            sender.start()
        connected.wait(timeout=120)
        began = time.monotonic()
        probes: dict[str, list] = {"other_request": [], "health": []}
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set() and gateway.poll() is None:
                probes["other_request"].append(body_memory.post(args.port, *body_memory.NORMAL, timeout=10))
                probes["health"].append(get(f"http://127.0.0.1:{management}/actuator/health"))
                stop.wait(1)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        while time.monotonic() < began + args.hold * 0.6 and gateway.poll() is None:
            try:
                if held()["inflight"] >= args.n * 0.98:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        if gateway.poll() is None:
            result["service_held"] = held()["inflight"]
            histogram = subprocess.run([jcmd, str(gateway.pid), "GC.class_histogram"], capture_output=True, text=True,
                                       timeout=120).stdout
            total = re.search(r"Total\s+\d+\s+(\d+)", histogram)
            result["live_heap_mib"] = round(int(total.group(1)) / 2**20, 1) if total else None
        for sender in senders:
            sender.join(args.hold + 150)
        stop.set()
        prober.join(15)
        result["answers"] = tally(answers)["kinds"]
        result.update({name: tally(got) for name, got in probes.items()})
        result["died"] = gateway.poll() is not None
        if result["died"]:
            oom = [line for line in log_path.read_text(errors="replace").splitlines() if "OutOfMemoryError" in line]
            result["exit_code"], result["oom_line"] = gateway.wait(30), oom[0][:160] if oom else None
        result["peak_heap_after_gc_mib"], result["full_gcs"] = body_memory.heap_after_gc(gc_log)
    finally:
        for process in (gateway, slow):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run")
    one.add_argument("--jar", required=True)
    one.add_argument("--n", type=int, required=True)
    one.add_argument("--hold", type=float, default=30)
    one.add_argument("--port", type=int, default=29710, help="the policy API's; the management port is the next")
    one.add_argument("--service-port", type=int, default=29720)
    one.add_argument("--label", default="gateway")
    one.add_argument("--work", default="target/bench/requests-in-flight")
    one.add_argument("--jvm-flags", default="-XX:+UseSerialGC -Xmn64m -Xmx307m -XX:+ExitOnOutOfMemoryError")
    one.add_argument("--java", default="/usr/lib/jvm/temurin-25-jdk-amd64/bin/java")
    slow = commands.add_parser("service")
    slow.add_argument("--port", type=int, required=True)
    slow.add_argument("--hold", type=float, required=True)
    arguments = parser.parse_args()
    if arguments.command == "run":
        run(arguments)
    else:
        service(arguments.port, arguments.hold)


if __name__ == "__main__":
    main()
