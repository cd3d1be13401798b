#!/usr/bin/env python3
"""Aggregates the wrk JSON lines (one per round) into the Markdown report."""
import json, statistics, sys, collections

results_file, meta_file = sys.argv[1], sys.argv[2]
runs = collections.defaultdict(list)   # (scenario, connections, server) -> [summary]
for line in open(results_file):
    scenario, connections, server, summary = line.rstrip("\n").split("\t", 3)
    runs[(scenario, int(connections), server)].append(json.loads(summary))
meta = json.load(open(meta_file))

def median(values): return statistics.median(values) if values else float("nan")
def rate(s): return s["requests"] / s["seconds"]

print("| scenario | connections | gateway req/s | baseline req/s | ratio | gateway p50 / p99 / p99.9 (ms) | baseline p99 (ms) | errors |")
print("|---|---:|---:|---:|---:|---|---:|---:|")
for (scenario, connections, server) in sorted(k for k in runs if k[2] == "gateway"):
    gw, base = runs[(scenario, connections, "gateway")], runs.get((scenario, connections, "baseline"), [])
    # Ratios are taken round by round (each gateway round next to its baseline round), then the median.
    ratios = [rate(g) / rate(b) for g, b in zip(gw, base)]
    ms = lambda key, xs: median([x[key] for x in xs]) / 1000
    print("| %s | %d | %.0f | %.0f | **%.2f×** | %.2f / %.2f / %.2f | %.2f | %d |" % (
        scenario, connections, median([rate(g) for g in gw]), median([rate(b) for b in base]), median(ratios),
        ms("p50_us", gw), ms("p99_us", gw), ms("p999_us", gw), ms("p99_us", base),
        sum(g["errors"] for g in gw)))
print()
print("Gateway: ready %d ms after process start; RSS after the run %d MiB; heap used after a full GC %d MiB; "
      "%d decisions counted by its own metrics." % (meta["ready_ms"], meta["rss_kib"] // 1024, meta["heap_after_gc_kib"] // 1024,
                                                     meta["decisions"]))
print("Machine: %s. Rounds: %d of %s s per server, alternating, after an uncounted warm-up; medians shown."
      % (meta["machine"], meta["rounds"], meta["duration"]))
