#!/usr/bin/env bash
# The benchmark, in one command: builds the gateway and the baseline, starts both, drives them with
# wrk in alternating rounds and writes a Markdown report of throughput, latency and the
# gateway-to-baseline ratio measured side by side (bench/results.md).
#
#   bench/run.sh            full run: 4 scenarios x 1, 16, 64 connections, 3 rounds of 10 s each, then
#                           latency at a paced 1,000 requests/s for scenarios 1 and 2, 3 rounds of 20 s
#   bench/run.sh --smoke    a few seconds, to prove the script still works (report in target/bench)
#
# DURATION, ROUNDS, CONNECTIONS, WARMUP, PACED_RATE, PACED_DURATION and STARTS override the defaults.
# Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-3}; CONNECTIONS=${CONNECTIONS:-"1 16 64"}; WARMUP=${WARMUP:-5}
PACED_RATE=${PACED_RATE:-1000}; PACED_DURATION=${PACED_DURATION:-20}; PACED_CONNECTIONS=8; STARTS=${STARTS:-3}
REPORT=bench/results.md
if [ "${1:-}" = "--smoke" ]; then
  DURATION=1; ROUNDS=1; CONNECTIONS=16; WARMUP=1; PACED_DURATION=1; STARTS=1; REPORT=target/bench/results-smoke.md
fi
GATEWAY_PORT=${GATEWAY_PORT:-18190}; MANAGEMENT_PORT=${MANAGEMENT_PORT:-18191}; BASELINE_PORT=${BASELINE_PORT:-18195}
OUT=target/bench; TOKEN=bench-token

. bench/lib.sh   # require, JAVA, cleanup on exit, wait_for
require wrk wrk

# The gateway runs from the product jar; the bench profile's build (target/bench) holds the
# baseline and JMH code, whose generated classes would otherwise slow the gateway's component scan.
./mvnw -B -q -DskipTests package
./mvnw -B -q -Pbench -DskipTests package
python3 bench/make_fixtures.py "$OUT/fixtures"


# The gateway runs as its container image runs it (Dockerfile): the jar extracted, the JDK's AOT
# cache from a training run, and the image's JVM flags in JAVA_TOOL_OPTIONS. The baseline gets the
# same flags. The plain `java -jar` start is timed too.
export JAVA_TOOL_OPTIONS
JAVA_TOOL_OPTIONS=$(image_jvm_flags)
app="$OUT/app"; rm -rf "$app"
"$JAVA" -Djarmode=tools -jar target/matrix-policy-gateway-*.jar extract --destination "$app" > /dev/null
extracted=$(ls "$app"/*.jar)
JAVA="$JAVA" bin/aot-cache "$extracted" "$app/gateway.aot" > "$OUT/training.log" 2>&1 || { cat "$OUT/training.log" >&2; exit 1; }

start_gateway() { # log-file config-file java-arguments...: starts the gateway (on its embedded default
                  # configuration when config-file is ""), sets gateway_pid and ready_ms
  local log=$1 config=$2 started; shift 2
  started=$(date +%s%N)
  "$JAVA" "$@" --server.port="$GATEWAY_PORT" --management.server.port="$MANAGEMENT_PORT" \
    ${config:+--spring.config.additional-location="file:$config"} > "$log" 2>&1 &
  gateway_pid=$!
  wait_for "$gateway_pid" "$log" "http://127.0.0.1:$MANAGEMENT_PORT/actuator/health/readiness"
  ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
}
stop_gateway() { kill "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true; }

startups="$OUT/startup.tsv"; : > "$startups"
bench_config="$OUT/fixtures/gateway.yml"
for ((i = 1; i <= STARTS; i++)); do   # alternating, so machine noise hits every way alike
  start_gateway "$OUT/startup.log" "$bench_config" -jar target/matrix-policy-gateway-*.jar
  printf 'jar\t%d\n' "$ready_ms" >> "$startups"; stop_gateway
  start_gateway "$OUT/startup.log" "$bench_config" -XX:AOTCache="$app/gateway.aot" -jar "$extracted"
  printf 'aot\t%d\n' "$ready_ms" >> "$startups"; stop_gateway
  start_gateway "$OUT/startup.log" "" -XX:AOTCache="$app/gateway.aot" -jar "$extracted"
  printf 'aot-default\t%d\n' "$ready_ms" >> "$startups"; stop_gateway
done
start_gateway "$OUT/gateway.log" "$bench_config" -XX:AOTCache="$app/gateway.aot" -jar "$extracted"

"$JAVA" -cp "$OUT/classes:$(cat "$OUT/bench-classpath.txt")" dev.matrixpolicy.bench.BaselineServer "$BASELINE_PORT" > "$OUT/baseline.log" 2>&1 &
baseline_pid=$!
wait_for "$baseline_pid" "$OUT/baseline.log" -X POST "http://127.0.0.1:$BASELINE_PORT/"

f="$OUT/fixtures"
declare -A SCENARIOS=(
  ["1 user_may_invite, 1 module"]="/v1/spam_checker/user_may_invite $f/invite.json"
  ["2 check_event_for_spam 2 KiB, 5 modules, 10k globs"]="/v1/spam_checker/check_event_for_spam $f/event.json"
  ["3 check_event_allowed, 50 state events"]="/v1/third_party_rules/check_event_allowed $f/event_allowed.json"
  ["4 spam-checker mix"]="/v1/spam_checker/user_may_invite $f/invite.json /v1/spam_checker/check_event_for_spam $f/event.json /v1/spam_checker/user_may_join_room $f/join.json /v1/spam_checker/user_may_create_room $f/create_room.json /v1/spam_checker/check_login_for_spam $f/login.json"
)

drive() { # port connections seconds requests... -> one JSON summary line (PACE_MS in the environment paces it)
  local port=$1 connections=$2 seconds=$3; shift 3
  local threads=$(( connections < 2 ? 1 : 2 ))
  # shellcheck disable=SC2086
  wrk -t"$threads" -c"$connections" -d"${seconds}s" -s bench/lua/post.lua "http://127.0.0.1:$port" -- "$TOKEN" "$@" | grep '^{'
}

alternate() { # results-file label connections seconds requests...: ROUNDS rounds, gateway then baseline
  local file=$1 label=$2 connections=$3 seconds=$4; shift 4
  for ((round = 1; round <= ROUNDS; round++)); do
    for server in gateway baseline; do
      port=$GATEWAY_PORT; [ "$server" = baseline ] && port=$BASELINE_PORT
      summary=$(drive "$port" "$connections" "$seconds" "$@")   # no summary line: wrk failed, and so does the script
      printf '%s\t%s\t%s\t%s\n' "$label" "$connections" "$server" "$summary" >> "$file"
    done
  done
}

results="$OUT/results.tsv"; : > "$results"
while IFS= read -r scenario; do
  read -r -a requests <<< "${SCENARIOS[$scenario]}"
  for connections in $CONNECTIONS; do
    drive "$GATEWAY_PORT" "$connections" "$WARMUP" "${requests[@]}" > /dev/null
    drive "$BASELINE_PORT" "$connections" "$WARMUP" "${requests[@]}" > /dev/null
    alternate "$results" "$scenario" "$connections" "$DURATION" "${requests[@]}"
    echo "done: $scenario @ $connections connections" >&2
  done
done < <(printf '%s\n' "${!SCENARIOS[@]}" | sort)

# Latency at a moderate load: each connection waits a random pause after each answer, so the
# servers see a steady Poisson stream of about PACED_RATE requests/s, far below saturation.
paced="$OUT/paced.tsv"; : > "$paced"
PACE_MS=$(awk -v c="$PACED_CONNECTIONS" -v r="$PACED_RATE" 'BEGIN {print c * 1000 / r}'); export PACE_MS
while IFS= read -r scenario; do
  read -r -a requests <<< "${SCENARIOS[$scenario]}"
  alternate "$paced" "$scenario" "$PACED_CONNECTIONS" "$PACED_DURATION" "${requests[@]}"
  echo "done: $scenario paced at $PACED_RATE requests/s" >&2
done < <(printf '%s\n' "${!SCENARIOS[@]}" | sort | grep -E '^[12] ')
unset PACE_MS

jcmd="$(dirname "$JAVA")/jcmd"
rss_kib=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
"$jcmd" "$gateway_pid" GC.run > /dev/null
# The "used" of every line with a "total": Serial's DefNew and Tenured, G1's one heap line; not metaspace.
heap_kib=$("$jcmd" "$gateway_pid" GC.heap_info | awk '/ total / {
  for (i = 1; i < NF; i++) if ($i == "used") { v = $(i + 1); sub(/K.*/, "", v); sum += v } } END {print sum + 0}')
decisions=$(curl -s "http://127.0.0.1:$MANAGEMENT_PORT/actuator/prometheus" | awk '/^policy_decisions_total/ {sum += $NF} END {printf "%d", sum}')
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/^Mem:/ {print $2}') GiB, $("$JAVA" -version 2>&1 | grep -m1 ' version ')"
printf '{"starts": %d, "jvm_flags": "%s", "rss_kib": %d, "heap_after_gc_kib": %d, "decisions": %d, "machine": "%s", "rounds": %d, "duration": "%s", "paced_rate": %d, "paced_duration": "%s", "paced_connections": %d}\n' \
  "$STARTS" "$JAVA_TOOL_OPTIONS" "$rss_kib" "$heap_kib" "$decisions" "${machine//\"/}" "$ROUNDS" "$DURATION" "$PACED_RATE" "$PACED_DURATION" "$PACED_CONNECTIONS" > "$OUT/meta.json"

{ echo "# Benchmark results"; echo; echo "Written by \`bench/run.sh\` on $(date -u +%Y-%m-%d)."; echo; python3 bench/report.py "$results" "$paced" "$startups" "$OUT/meta.json"; } > "$OUT/report.md"
mv "$OUT/report.md" "$REPORT"   # a failed report leaves the last one in place
cat "$REPORT"
