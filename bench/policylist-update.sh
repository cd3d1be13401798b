#!/usr/bin/env bash
# Request latency while a policy list source replaces its rules: the gateway serves user_may_invite
# from a policy_list instance holding a large list (LARGE rules, a file that stays put) and a small one
# (UPDATE rules, a file source checked every 200 ms). In alternating rounds, the small file is either
# left alone ("quiet") or swapped every SWAP_EVERY seconds for a version whose every rule differs ("updating"),
# while wrk sends a paced Poisson stream of requests. Writes a Markdown table to stdout.
#
#   bench/policylist-update.sh          LARGE=1000000 UPDATE=10000, 3 rounds of 20 s each way at 1,000 requests/s
#
# LARGE, UPDATE, ROUNDS, DURATION, RATE, SWAP_EVERY (seconds, 1 by default), JVM_FLAGS (the image's by default) and SKIP_BUILD=1 override
# the defaults. Two of the four request bodies name banned users: their 403s are counted as refusals.
set -euo pipefail
cd "$(dirname "$0")/.."

LARGE=${LARGE:-1000000}; UPDATE=${UPDATE:-10000}; ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-20}; RATE=${RATE:-1000}
SWAP_EVERY=${SWAP_EVERY:-1}
CONNECTIONS=8; GATEWAY_PORT=${GATEWAY_PORT:-18290}; MANAGEMENT_PORT=${MANAGEMENT_PORT:-18291}
OUT=target/bench/policylist; TOKEN=bench-token
. bench/lib.sh   # require, JAVA, cleanup on exit
require wrk wrk

[ "${SKIP_BUILD:-}" = 1 ] || ./mvnw -B -q -DskipTests package
python3 bench/make_policylist_fixtures.py "$OUT" "$LARGE" "$UPDATE"
cp "$OUT/updates-a.json" "$OUT/updates.json"

# The image's JVM flags (Dockerfile), as bench/run.sh runs the gateway, unless JVM_FLAGS says otherwise.
JVM_FLAGS=${JVM_FLAGS:-$(image_jvm_flags)}
JAVA_TOOL_OPTIONS="$JVM_FLAGS" "$JAVA" -Xlog:gc:file="$OUT/gc.log" -jar target/matrix-policy-gateway-*.jar --server.port="$GATEWAY_PORT" --management.server.port="$MANAGEMENT_PORT" \
  --spring.config.additional-location="file:$OUT/gateway.yml" > "$OUT/gateway.log" 2>&1 &
gateway_pid=$!

loaded_at=$((SECONDS + 300))
until [ "$(metric policy_module_policy_list_rules 'source="large"' 2>/dev/null || echo 0)" = "$LARGE.000000" ]; do
  kill -0 "$gateway_pid" 2>/dev/null && [ "$SECONDS" -lt "$loaded_at" ] || { tail -50 "$OUT/gateway.log" >&2; echo "the large list never loaded" >&2; exit 1; }
  sleep 0.5
done
echo "loaded $LARGE + $UPDATE rules" >&2

swap() { # swaps the small list between its versions every SWAP_EVERY seconds, atomically (write aside, rename)
  local version=b
  while true; do
    cp "$OUT/updates-$version.json" "$OUT/updates.json.tmp" && mv "$OUT/updates.json.tmp" "$OUT/updates.json"
    version=$([ "$version" = a ] && echo b || echo a)
    sleep "$SWAP_EVERY"
  done
}

bodies=(/v1/spam_checker/user_may_invite "$OUT/invite-innocent.json" /v1/spam_checker/user_may_invite "$OUT/invite-innocent2.json"
        /v1/spam_checker/user_may_invite "$OUT/invite-listed.json" /v1/spam_checker/user_may_invite "$OUT/invite-glob.json")
drive() { # seconds -> one JSON summary line
  PACE_MS=$(awk -v c="$CONNECTIONS" -v r="$RATE" 'BEGIN {print c * 1000 / r}') \
    wrk -t2 -c"$CONNECTIONS" -d"$1s" -s bench/lua/post.lua "http://127.0.0.1:$GATEWAY_PORT" -- "$TOKEN" "${bodies[@]}" | grep '^{'
}
drive 10 > /dev/null   # warm-up, uncounted

results="$OUT/results.tsv"; : > "$results"
for ((round = 1; round <= ROUNDS; round++)); do
  for mode in quiet updating; do
    updates_before=$(metric policy_module_policy_list_update_seconds_count 'source="updates"')
    update_seconds_before=$(metric policy_module_policy_list_update_seconds_sum 'source="updates"')
    swapper=""
    if [ "$mode" = updating ]; then swap & swapper=$!; fi
    summary=$(drive "$DURATION")
    [ -z "$swapper" ] || { kill "$swapper"; wait "$swapper" 2>/dev/null || true; }
    updates=$(awk -v a="$(metric policy_module_policy_list_update_seconds_count 'source="updates"')" -v b="$updates_before" 'BEGIN {print a - b}')
    update_ms=$(awk -v a="$(metric policy_module_policy_list_update_seconds_sum 'source="updates"')" -v b="$update_seconds_before" -v n="$updates" \
      'BEGIN {printf "%.1f", (n > 0 ? (a - b) * 1000 / n : 0)}')
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$updates" "$update_ms" "$summary" >> "$results"
    echo "round $round $mode: $updates updates, $summary" >&2
  done
done

jcmd="$(dirname "$JAVA")/jcmd"
"$jcmd" "$gateway_pid" GC.run > /dev/null
heap_kib=$("$jcmd" "$gateway_pid" GC.heap_info | awk '/ total / {
  for (i = 1; i < NF; i++) if ($i == "used") { v = $(i + 1); sub(/K.*/, "", v); sum += v } } END {print sum + 0}')
rss_kib=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
python3 - "$results" "$heap_kib" "$rss_kib" "$LARGE" "$UPDATE" "$RATE" "$DURATION" "$JVM_FLAGS" "$OUT/gc.log" "$SWAP_EVERY" <<'PY'
import json, re, statistics, sys
path, heap_kib, rss_kib, large, update, rate, duration, flags, gc_log, swap_every = sys.argv[1:]
rows = [line.rstrip("\n").split("\t", 4) for line in open(path)]
print("| round | small list | updates applied | mean update (ms) | req/s | p50 / p99 / p99.9 (ms) | refused (403) | failed |")
print("|---:|---|---:|---:|---:|---|---:|---:|")
by_mode = {}
for rnd, mode, updates, update_ms, summary in rows:
    s = json.loads(summary)
    by_mode.setdefault(mode, []).append(s)
    print("| %s | %s | %s | %s | %.0f | %.2f / **%.2f** / %.2f | %d | %d |" % (rnd, mode, updates, update_ms if mode == "updating" else "-",
          s["requests"] / s["seconds"], s["p50_us"] / 1000, s["p99_us"] / 1000, s["p999_us"] / 1000, s["non2xx"], s["errors"] - s["non2xx"]))
print()
for mode, summaries in by_mode.items():
    print("- %s: median p99 %.2f ms (worst %.2f ms) over %d rounds" % (mode, statistics.median(s["p99_us"] for s in summaries) / 1000,
          max(s["p99_us"] for s in summaries) / 1000, len(summaries)))
pauses = sorted(float(m.group(1)) for m in re.finditer(r"Pause Young.* ([0-9.]+)ms$", open(gc_log).read(), re.M))
if pauses:
    print("- young collection pauses over the whole run: %d, median %.1f ms, longest %.1f ms" % (len(pauses), statistics.median(pauses), pauses[-1]))
print("- gateway heap after a full GC at the end: %d MiB; RSS %d MiB; lists: %s + %s rules; %s requests/s paced, %s s rounds, "
      "an update every %s s; JVM flags: `%s`" % (int(heap_kib) // 1024, int(rss_kib) // 1024, large, update, rate, duration, swap_every, flags))
PY
