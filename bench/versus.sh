#!/usr/bin/env bash
# Two builds of the gateway side by side, to measure what a change costs on the hot path:
#
#   bench/versus.sh <before-revision>      the revision's jar against the working tree's
#
# Both run the benchmark's chain (bench/make_fixtures.py) with the same JVM flags; wrk drives them
# in alternating rounds (ROUNDS of DURATION seconds at CONNECTIONS), so machine noise hits both
# alike. Prints a Markdown table of throughput, latency and each gateway's CPU time per request (from
# /proc, its own threads only: steadier than throughput on a shared machine) per scenario, and the
# after/before ratio. Run it on a quiet machine.
#
# CHAIN=protections runs bench/protections.sh's chain instead (rate_limits + content_rules, state in
# memory) on its check_event_for_spam message; PACED_RATE=<requests/s> paces wrk instead of saturating.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?usage: bench/versus.sh <before-revision>}
DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-3}; CONNECTIONS=${CONNECTIONS:-16}; WARMUP=${WARMUP:-10}
CHAIN=${CHAIN:-benchmark}; PACED_RATE=${PACED_RATE:-}
OUT=target/bench-versus; TOKEN=bench-token
A_PORT=18290; A_MANAGEMENT=18291; B_PORT=18292; B_MANAGEMENT=18293

. bench/lib.sh   # require, JAVA
require wrk wrk
rm -rf "$OUT"; mkdir -p "$OUT"

./mvnw -B -q -o -DskipTests package
cp target/matrix-policy-gateway-*.jar "$OUT/after.jar"
git worktree add -q --detach "$OUT/before-src" "$BEFORE"
trap 'git worktree remove --force "$OUT/before-src" 2>/dev/null || true' EXIT
(cd "$OUT/before-src" && ./mvnw -B -q -o -DskipTests package && cp target/matrix-policy-gateway-*.jar ../before.jar)
f="$OUT/fixtures"
if [ "$CHAIN" = protections ]; then
  python3 bench/make_protections_fixtures.py "$f" 0 10000 > /dev/null   # no Redis: the memory chain only
  config="$f/gateway-memory.yml"
else
  python3 bench/make_fixtures.py "$f" >&2   # its summary line stays out of the report
  config="$f/gateway.yml"
fi

export JAVA_TOOL_OPTIONS
JAVA_TOOL_OPTIONS=$(image_jvm_flags)
pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
            git worktree remove --force "$OUT/before-src" 2>/dev/null || true; }
trap cleanup EXIT
start() { # jar port management-port log
  "$JAVA" -jar "$1" --server.port="$2" --management.server.port="$3" \
    --spring.config.additional-location="file:$config" > "$4" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 120))
  until curl -sf -o /dev/null "http://127.0.0.1:$3/actuator/health/readiness"; do
    [ "$SECONDS" -lt "$deadline" ] || { cat "$4" >&2; exit 1; }; sleep 0.1
  done
}
start "$OUT/before.jar" "$A_PORT" "$A_MANAGEMENT" "$OUT/before.log"; before_pid=${pids[-1]}
start "$OUT/after.jar" "$B_PORT" "$B_MANAGEMENT" "$OUT/after.log"; after_pid=${pids[-1]}
unset JAVA_TOOL_OPTIONS   # not for wrk and curl

if [ "$CHAIN" = protections ]; then
  declare -A SCENARIOS=(["check_event_for_spam 2.5 KB, rate_limits + content_rules"]="signed $f/events.tsv")
else
  declare -A SCENARIOS=(
    ["user_may_invite, 1 module"]="post $TOKEN /v1/spam_checker/user_may_invite $f/invite.json"
    ["check_event_for_spam 2 KiB, 5 modules, 10k globs"]="post $TOKEN /v1/spam_checker/check_event_for_spam $f/event.json"
    ["check_event_allowed, 50 state events"]="post $TOKEN /v1/third_party_rules/check_event_allowed $f/event_allowed.json"
  )
fi
pace=""; [ -z "$PACED_RATE" ] || pace=$(awk -v c="$CONNECTIONS" -v r="$PACED_RATE" 'BEGIN {print c * 1000 / r}')
drive() { # port seconds script arguments... -> one JSON summary line
  local port=$1 seconds=$2 script=$3; shift 3
  env ${pace:+PACE_MS=$pace} wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" -s "bench/lua/$script.lua" "http://127.0.0.1:$port" -- "$@" | grep '^{'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # user + system time of a process
measured() { # pid port seconds script arguments... -> the summary line with the process's CPU ticks added
  local pid=$1 before summary; shift
  before=$(cpu_ticks "$pid"); summary=$(drive "$@")
  printf '%s\t%s\n' "$summary" $(( $(cpu_ticks "$pid") - before ))
}
results="$OUT/results.tsv"; : > "$results"
while IFS= read -r scenario; do
  read -r -a requests <<< "${SCENARIOS[$scenario]}"
  drive "$A_PORT" "$WARMUP" "${requests[@]}" > /dev/null
  drive "$B_PORT" "$WARMUP" "${requests[@]}" > /dev/null
  for ((round = 1; round <= ROUNDS; round++)); do
    printf '%s\tbefore\t%s\n' "$scenario" "$(measured "$before_pid" "$A_PORT" "$DURATION" "${requests[@]}")" >> "$results"
    printf '%s\tafter\t%s\n' "$scenario" "$(measured "$after_pid" "$B_PORT" "$DURATION" "${requests[@]}")" >> "$results"
  done
done < <(printf '%s\n' "${!SCENARIOS[@]}" | sort)

python3 - "$results" "$BEFORE" "$(git rev-parse --short HEAD)" "$(getconf CLK_TCK)" "$CHAIN" "${PACED_RATE:-saturated}" <<'PY'
import json, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
ticks_per_second = int(sys.argv[4])
print(f"before: {sys.argv[2]}, after: working tree at {sys.argv[3]}; chain: {sys.argv[5]}; load: {sys.argv[6]}; "
      "medians of the rounds\n")
print("| scenario | build | requests/s | p50 µs | p99 µs | CPU µs/request | errors | after/before (requests/s) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for scenario in dict.fromkeys(r[0] for r in rows):
    stats = {}
    for build in ("before", "after"):
        runs = [(json.loads(r[2]), int(r[3])) for r in rows if r[0] == scenario and r[1] == build]
        stats[build] = (statistics.median(r["requests"] / r["seconds"] for r, _ in runs),
                        statistics.median(r["p50_us"] for r, _ in runs), statistics.median(r["p99_us"] for r, _ in runs),
                        statistics.median(ticks / ticks_per_second * 1e6 / r["requests"] for r, ticks in runs),
                        sum(r["errors"] + r["non2xx"] for r, _ in runs))
    for build in ("before", "after"):
        rps, p50, p99, cpu, errors = stats[build]
        ratio = f"{stats['after'][0] / stats['before'][0]:.2f}" if build == "after" else ""
        print(f"| {scenario} | {build} | {rps:,.0f} | {p50:.0f} | {p99:.0f} | {cpu:.1f} | {errors} | {ratio} |")
PY
