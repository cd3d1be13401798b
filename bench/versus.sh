#!/usr/bin/env bash
# Two builds of the gateway side by side, to measure what a change costs on the hot path:
#
#   bench/versus.sh <before-revision>      the revision's jar against the working tree's
#
# Both run the benchmark's chain (bench/make_fixtures.py) with the same JVM flags; wrk drives them
# in alternating rounds (ROUNDS of DURATION seconds at CONNECTIONS), so machine noise hits both
# alike. Prints a Markdown table of throughput and latency per scenario and the after/before ratio.
# Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?usage: bench/versus.sh <before-revision>}
DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-3}; CONNECTIONS=${CONNECTIONS:-16}; WARMUP=${WARMUP:-10}
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
python3 bench/make_fixtures.py "$OUT/fixtures"

export JAVA_TOOL_OPTIONS
JAVA_TOOL_OPTIONS=$(sed -n 's/^ENV JAVA_TOOL_OPTIONS="\(.*\)"$/\1/p' Dockerfile)
pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
            git worktree remove --force "$OUT/before-src" 2>/dev/null || true; }
trap cleanup EXIT
start() { # jar port management-port log
  "$JAVA" -jar "$1" --server.port="$2" --management.server.port="$3" \
    --spring.config.additional-location="file:$OUT/fixtures/gateway.yml" > "$4" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 120))
  until curl -sf -o /dev/null "http://127.0.0.1:$3/actuator/health/readiness"; do
    [ "$SECONDS" -lt "$deadline" ] || { cat "$4" >&2; exit 1; }; sleep 0.1
  done
}
start "$OUT/before.jar" "$A_PORT" "$A_MANAGEMENT" "$OUT/before.log"
start "$OUT/after.jar" "$B_PORT" "$B_MANAGEMENT" "$OUT/after.log"

f="$OUT/fixtures"
declare -A SCENARIOS=(
  ["user_may_invite, 1 module"]="/v1/spam_checker/user_may_invite $f/invite.json"
  ["check_event_for_spam 2 KiB, 5 modules, 10k globs"]="/v1/spam_checker/check_event_for_spam $f/event.json"
)
drive() { # port seconds requests... -> one JSON summary line
  local port=$1 seconds=$2; shift 2
  wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" -s bench/lua/post.lua "http://127.0.0.1:$port" -- "$TOKEN" "$@" | grep '^{'
}
results="$OUT/results.tsv"; : > "$results"
while IFS= read -r scenario; do
  read -r -a requests <<< "${SCENARIOS[$scenario]}"
  drive "$A_PORT" "$WARMUP" "${requests[@]}" > /dev/null
  drive "$B_PORT" "$WARMUP" "${requests[@]}" > /dev/null
  for ((round = 1; round <= ROUNDS; round++)); do
    printf '%s\tbefore\t%s\n' "$scenario" "$(drive "$A_PORT" "$DURATION" "${requests[@]}")" >> "$results"
    printf '%s\tafter\t%s\n' "$scenario" "$(drive "$B_PORT" "$DURATION" "${requests[@]}")" >> "$results"
  done
done < <(printf '%s\n' "${!SCENARIOS[@]}" | sort)

python3 - "$results" "$BEFORE" "$(git rev-parse --short HEAD)" <<'PY'
import json, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print(f"before: {sys.argv[2]}, after: working tree at {sys.argv[3]}; medians of the rounds\n")
print("| scenario | build | requests/s | p50 µs | p99 µs | errors | after/before |")
print("|---|---|---:|---:|---:|---:|---:|")
for scenario in dict.fromkeys(r[0] for r in rows):
    stats = {}
    for build in ("before", "after"):
        runs = [json.loads(r[2]) for r in rows if r[0] == scenario and r[1] == build]
        stats[build] = (statistics.median(r["requests"] / r["seconds"] for r in runs),
                        statistics.median(r["p50_us"] for r in runs), statistics.median(r["p99_us"] for r in runs),
                        sum(r["errors"] + r["non2xx"] for r in runs))
    for build in ("before", "after"):
        rps, p50, p99, errors = stats[build]
        ratio = f"{stats['after'][0] / stats['before'][0]:.2f}" if build == "after" else ""
        print(f"| {scenario} | {build} | {rps:,.0f} | {p50:.0f} | {p99:.0f} | {errors} | {ratio} |")
PY
