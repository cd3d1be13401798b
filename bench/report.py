#!/usr/bin/env python3
"""Aggregates the wrk JSON lines (one per round) into the Markdown report.

Usage: report.py <saturation results> <paced results> <startup times> <meta.json>
"""
import json, statistics, sys, collections

saturation_file, paced_file, startup_file, meta_file = sys.argv[1:5]
meta = json.load(open(meta_file))

def load(path):
    runs = collections.defaultdict(list)   # (scenario, connections, server) -> [summary], in round order
    for line in open(path):
        scenario, connections, server, summary = line.rstrip("\n").split("\t", 3)
        runs[(scenario, int(connections), server)].append(json.loads(summary))
    return runs

def median(values): return statistics.median(values) if values else float("nan")
def rate(s): return s["requests"] / s["seconds"]
def ms(key, xs): return median([x[key] for x in xs]) / 1000
def gateway_keys(runs): return sorted(k for k in runs if k[2] == "gateway")
def pair(runs, key): return runs[key], runs.get((key[0], key[1], "baseline"), [])

runs = load(saturation_file)
print("## Throughput at saturation")
print()
print("| scenario | connections | gateway req/s | baseline req/s | ratio | gateway p50 / p99 / p99.9 (ms) | baseline p99 (ms) | errors |")
print("|---|---:|---:|---:|---:|---|---:|---:|")
for key in gateway_keys(runs):
    gw, base = pair(runs, key)
    # Ratios are taken round by round (each gateway round next to its baseline round), then the median.
    ratios = [rate(g) / rate(b) for g, b in zip(gw, base)]
    print("| %s | %d | %.0f | %.0f | **%.2f×** | %.2f / %.2f / %.2f | %.2f | %d |" % (
        key[0], key[1], median([rate(g) for g in gw]), median([rate(b) for b in base]), median(ratios),
        ms("p50_us", gw), ms("p99_us", gw), ms("p999_us", gw), ms("p99_us", base),
        sum(g["errors"] for g in gw)))

paced = load(paced_file)
print()
print("## Latency at a paced %d requests/s" % meta["paced_rate"])
print()
print("| scenario | gateway req/s | gateway p50 / p99 / p99.9 (ms) | baseline p50 / p99 / p99.9 (ms) | added p99 (ms) | errors |")
print("|---|---:|---|---|---:|---:|")
for key in gateway_keys(paced):
    gw, base = pair(paced, key)
    # The latency the gateway adds, round by round, then the median.
    added = [(g["p99_us"] - b["p99_us"]) / 1000 for g, b in zip(gw, base)]
    print("| %s | %.0f | %.2f / **%.2f** / %.2f | %.2f / %.2f / %.2f | %.2f | %d |" % (
        key[0], median([rate(g) for g in gw]), ms("p50_us", gw), ms("p99_us", gw), ms("p999_us", gw),
        ms("p50_us", base), ms("p99_us", base), ms("p999_us", base), median(added), sum(g["errors"] for g in gw)))

starts = collections.defaultdict(list)   # way -> [ms to ready]
for line in open(startup_file):
    way, ms_to_ready = line.split()
    starts[way].append(int(ms_to_ready))
ready = {way: median(times) for way, times in starts.items()}

print()
print("Gateway, run as its container image runs it (extracted jar, AOT cache, `%s`): ready %d ms after process "
      "start on the benchmark configuration (plain `java -jar`: %d ms) and %d ms on the embedded default "
      "configuration (medians of %d alternating starts); RSS after the run %d MiB; heap used after a full GC %d MiB; "
      "%d decisions counted by its own metrics." % (
          meta["jvm_flags"], ready["aot"], ready["jar"], ready["aot-default"], meta["starts"],
          meta["rss_kib"] // 1024, meta["heap_after_gc_kib"] // 1024, meta["decisions"]))
print("Machine: %s. Saturation: %d rounds of %s s per server, alternating, after an uncounted warm-up. "
      "Paced: %d connections, %d rounds of %s s per server, alternating. Medians shown."
      % (meta["machine"], meta["rounds"], meta["duration"], meta["paced_connections"], meta["rounds"], meta["paced_duration"]))
