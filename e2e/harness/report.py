"""The suite's report: Synapse's startup, each module's registration, every check a test made
(callback, through which Synapse module, what the client did, what it saw) and, from the
gateway's own metrics, which callbacks reached it and how its chains answered."""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set, Tuple


class Report:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.lines: List[str] = []
        self.checks: List[Tuple[str, str, str, str, str]] = []
        self.decisions: Dict[str, Dict[str, float]] = {}

    def note(self, text: str) -> None:
        with self.lock:
            self.lines.append(text)

    def check(self, callback: str, via: str, action: str, observed: str, test: str = "") -> None:
        """One decision seen by a client: ``via`` is the Synapse module that asked the gateway."""
        with self.lock:
            self.checks.append((callback, via, action, observed, test))

    def read_gateway_metrics(self, management_url: str) -> None:
        """Adds the gateway's counters to the report: called before the gateway stops, since a
        restarted gateway counts from zero."""
        with self.lock:
            for callback, outcomes in _decisions(management_url).items():
                mine = self.decisions.setdefault(callback, {})
                for key, count in outcomes.items():
                    mine[key] = mine.get(key, 0) + count

    def callbacks_seen(self, management_url: str) -> Set[str]:
        """Every callback that reached the gateway in this run, the running gateway included."""
        with self.lock:
            return set(self.decisions) | set(_decisions(management_url))

    def render(self, every_callback: List[Tuple[str, str]], not_callable: Dict[str, str]) -> str:
        out = ["# End-to-end report: a real Synapse through the gateway", ""]
        out += self.lines + [""]
        out += ["## Checks a Matrix client made", "",
                "| callback | Synapse module | what the client did | what it saw |", "|---|---|---|---|"]
        for callback, via, action, observed, _ in sorted(self.checks, key=lambda c: (c[0], c[1])):
            out.append(f"| `{callback}` | {via} | {action} | {observed} |")
        out += ["", "## Callbacks as the gateway saw them (policy_decisions_total)", "",
                "| category | callback | answers by the gateway's chains | checked by a client |", "|---|---|---|---|"]
        checked = {c[0] for c in self.checks}
        for category, callback in every_callback:
            seen = self.decisions.get(callback)
            if seen:
                answers = ", ".join(f"{int(n)}× {key}" for key, n in sorted(seen.items()))
            else:
                answers = "**never called**: " + not_callable.get(callback, "no reason recorded")
            out.append(f"| {category} | `{callback}` | {answers} | {'yes' if callback in checked else '-'} |")
        out += ["", f"Whole suite: {time.monotonic() - self.started:.0f} s."]
        return "\n".join(out) + "\n"

    def write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def decisions_total(management_url: str) -> float:
    """Every decision the running gateway has made: it moves with each request a module sends."""
    return sum(sum(outcomes.values()) for outcomes in _decisions(management_url).values())


def _decisions(management_url: str) -> Dict[str, Dict[str, float]]:
    """policy_decisions_total per callback: how many times each outcome came from which module."""
    with urllib.request.urlopen(management_url + "/actuator/prometheus", timeout=10) as response:
        text = response.read().decode()
    decisions: Dict[str, Dict[str, float]] = defaultdict(dict)
    for line in text.splitlines():
        if line.startswith("policy_decisions_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            key = f"{labels['outcome']} by {labels['module']}"
            decisions[labels["callback"]][key] = decisions[labels["callback"]].get(key, 0) + float(line.split()[-1])
    return decisions
