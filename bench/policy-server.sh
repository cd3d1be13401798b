#!/usr/bin/env bash
# The policy server's /sign, side by side with the plain check_event_for_spam call, for one ~2 KiB
# event: starts the gateway jar once with the policy server enabled (a generated key, the embedded
# default module chain), a stand-in homeserver that serves its key, and drives three scenarios with
# wrk in alternating rounds:
#   a. check_event_for_spam on the policy API port (bearer token): the baseline;
#   b. /_matrix/policy/v1/sign, a different event each request: X-Matrix check, hashes, chain, signature;
#   c. /_matrix/policy/v1/sign, one event again and again: X-Matrix check, hashes, remembered answer.
# wrk cannot sign requests, so the requests are signed beforehand (dev.matrixpolicy.bench.PolicyServerFixtures):
# an X-Matrix signature does not expire. The answer cache holds CACHE_SIZE events, far fewer than the
# DISTINCT events b cycles through, so b's events are not found there; the report gives each
# scenario's hit ratio from the gateway's own cache metrics.
#
#   bench/policy-server.sh           ROUNDS rounds of DURATION s at CONNECTIONS, then paced at PACED_RATE (report in
#                                    target/bench-policy-server-results.md; bench/policy-server.md discusses a run)
#   bench/policy-server.sh --smoke   a few seconds, to prove the script still works (target/bench-policy-server)
#
# DURATION, ROUNDS, CONNECTIONS, WARMUP, PACED_RATE, PACED_DURATION, DISTINCT, CACHE_SIZE override the
# defaults; BUILD=0 uses the jars already built. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-3}; CONNECTIONS=${CONNECTIONS:-16}; WARMUP=${WARMUP:-10}
PACED_RATE=${PACED_RATE:-500}; PACED_DURATION=${PACED_DURATION:-20}; PACED_CONNECTIONS=8
DISTINCT=${DISTINCT:-20000}; CACHE_SIZE=${CACHE_SIZE:-1000}; BUILD=${BUILD:-1}
OUT=target/bench-policy-server; REPORT=target/bench-policy-server-results.md
if [ "${1:-}" = "--smoke" ]; then
  DURATION=1; ROUNDS=1; WARMUP=1; PACED_DURATION=1; DISTINCT=${DISTINCT_SMOKE:-500}; CACHE_SIZE=50; REPORT=$OUT/results-smoke.md
fi
API_PORT=${API_PORT:-18390}; MANAGEMENT_PORT=${MANAGEMENT_PORT:-18391}; FEDERATION_PORT=${FEDERATION_PORT:-18392}
KEY_PORT=${KEY_PORT:-18393}

. bench/lib.sh
require wrk wrk
build_offline   # the gateway runs from the product jar; the fixtures come from the bench profile's build
rm -rf "$OUT"; mkdir -p "$OUT"
jar=$(product_jar)

policy_server_key "$jar" "$OUT/policy_server.key"

# The stand-in homeserver: writes the signed requests, then serves its key.
"$JAVA" -cp "target/bench/classes:$(cat target/bench/bench-classpath.txt)" dev.matrixpolicy.bench.PolicyServerFixtures \
  "$OUT/fixtures" "$DISTINCT" "$KEY_PORT" > "$OUT/homeserver.log" 2>&1 &
homeserver_pid=$!
until grep -qs '^ready' "$OUT/homeserver.log"; do
  kill -0 "$homeserver_pid" 2>/dev/null || { cat "$OUT/homeserver.log" >&2; exit 1; }; sleep 0.1
done

# The embedded default configuration (its check_event_for_spam chain: the user_denylist
# "known-spammers"), a token, and the policy server. JSON is valid YAML.
cat > "$OUT/gateway.yml" <<YAML
{"policy-gateway": {"auth": {"token": "bench-token"},
  "policy-server": {"enabled": true, "name": "policy.bench", "port": $FEDERATION_PORT, "key-file": "$PWD/$OUT/policy_server.key",
    "signature-cache-size": $CACHE_SIZE, "rooms": [{"id": "!bench:hs.bench", "version": "10"}],
    "servers": [{"name": "hs.bench", "address": "http://127.0.0.1:$KEY_PORT"}]}},
 "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}
YAML

# The container image's JVM flags (Dockerfile), as bench/run.sh runs the gateway.
export JAVA_TOOL_OPTIONS
JAVA_TOOL_OPTIONS=$(image_jvm_flags)
"$JAVA" -jar "$jar" --server.port="$API_PORT" --management.server.port="$MANAGEMENT_PORT" \
  --spring.config.additional-location="file:$OUT/gateway.yml" > "$OUT/gateway.log" 2>&1 &
gateway_pid=$!
deadline=$((SECONDS + 120))
until curl -sf -o /dev/null "http://127.0.0.1:$MANAGEMENT_PORT/actuator/health/readiness"; do
  kill -0 "$gateway_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || { cat "$OUT/gateway.log" >&2; echo "gateway not ready" >&2; exit 1; }
  sleep 0.1
done
unset JAVA_TOOL_OPTIONS   # not for wrk's helpers below

f="$OUT/fixtures"
SCENARIOS=("a check_event_for_spam (policy API)" "b sign, new event each time" "c sign, the same event")
port_of() { case $1 in a*) echo "$API_PORT" ;; *) echo "$FEDERATION_PORT" ;; esac; }
file_of() { case $1 in a*) echo "$f/check.tsv" ;; b*) echo "$f/distinct.tsv" ;; c*) echo "$f/repeated.tsv" ;; esac; }

# Every answer must be the expected one before anything is timed.
for scenario in "${SCENARIOS[@]}"; do
  IFS=$'\t' read -r path authorization body < "$(file_of "$scenario")"
  status=$(curl -s -o "$OUT/probe.json" -w '%{http_code}' -H "Authorization: $authorization" -H 'Content-Type: application/json' \
    --data-binary "$body" "http://127.0.0.1:$(port_of "$scenario")$path")
  [ "$status" = 200 ] || { echo "$scenario: HTTP $status $(cat "$OUT/probe.json")" >&2; exit 1; }
done

cache_gets() { # -> "hits misses" of the policy server's answer cache, from the gateway's own metrics
  curl -s "http://127.0.0.1:$MANAGEMENT_PORT/actuator/prometheus" | awk '/^cache_gets_total\{.*policy-server-answers/ {
    if ($0 ~ /result="hit"/) h += $NF; else if ($0 ~ /result="miss"/) m += $NF } END {printf "%d %d", h, m}'
}

drive() { # scenario connections seconds -> one JSON summary line (PACE_MS in the environment paces it)
  local threads=$(( $2 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$2" -d"${3}s" -s bench/lua/signed.lua "http://127.0.0.1:$(port_of "$1")" -- "$(file_of "$1")" | grep '^{'
}

alternate() { # results-file connections seconds: ROUNDS rounds of every scenario in turn
  local file=$1 connections=$2 seconds=$3 before after summary
  for ((round = 1; round <= ROUNDS; round++)); do
    for scenario in "${SCENARIOS[@]}"; do
      before=$(cache_gets)
      summary=$(drive "$scenario" "$connections" "$seconds")   # no summary line: wrk failed, and so does the script
      after=$(cache_gets)
      printf '%s\t%s\t%s\t%s\t%s\n' "$scenario" "$connections" "$summary" "$before" "$after" >> "$file"
    done
  done
}

for scenario in "${SCENARIOS[@]}"; do drive "$scenario" "$CONNECTIONS" "$WARMUP" > /dev/null; done
results="$OUT/results.tsv"; : > "$results"
alternate "$results" "$CONNECTIONS" "$DURATION"
echo "done: $CONNECTIONS connections" >&2

# Latency at a moderate load: a Poisson stream of about PACED_RATE requests/s (see bench/lua/pace.lua).
paced="$OUT/paced.tsv"; : > "$paced"
PACE_MS=$(awk -v c="$PACED_CONNECTIONS" -v r="$PACED_RATE" 'BEGIN {print c * 1000 / r}') alternate "$paced" "$PACED_CONNECTIONS" "$PACED_DURATION"
echo "done: paced at $PACED_RATE requests/s" >&2

rss_kib=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $("$JAVA" -version 2>&1 | grep -m1 ' version ')"
event_bytes=$(sed -n 's/^event: \([0-9]*\) bytes as sent to \/sign, \([0-9]*\).*/\1 \2/p' "$OUT/homeserver.log")

flags=$(image_jvm_flags)
export machine event_bytes flags rss_kib CACHE_SIZE DISTINCT CONNECTIONS ROUNDS DURATION WARMUP PACED_RATE PACED_CONNECTIONS PACED_DURATION
python3 - "$results" "$paced" > "$OUT/report.md" <<'PY'
import json, os, statistics, sys
e = os.environ

def load(path):
    rows = []
    for line in open(path):
        scenario, connections, summary, before, after = line.rstrip("\n").split("\t")
        s = json.loads(summary)
        (h0, m0), (h1, m1) = before.split(), after.split()
        s["hits"], s["misses"] = int(h1) - int(h0), int(m1) - int(m0)
        rows.append((scenario, s))
    return rows

def table(rows):
    order = list(dict.fromkeys(r[0] for r in rows))
    base = {}
    out = ["| scenario | requests/s | vs a | p50 ms | p99 ms | p99.9 ms | cache hits | errors |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in order:
        runs = [s for name, s in rows if name == scenario]
        rps = statistics.median(s["requests"] / s["seconds"] for s in runs)
        base.setdefault("a", rps)
        p = lambda key: statistics.median(s[key] for s in runs) / 1000
        gets = sum(s["hits"] + s["misses"] for s in runs)
        hits = "" if gets == 0 else "%.1f %%" % (100 * sum(s["hits"] for s in runs) / gets)
        errors = sum(s["errors"] + s["non2xx"] for s in runs)
        ratio = "" if scenario.startswith("a") else "%.2f×" % (rps / base["a"])
        spread = "%.0f–%.0f" % (min(s["requests"] / s["seconds"] for s in runs), max(s["requests"] / s["seconds"] for s in runs))
        out.append("| %s | %.0f (%s) | %s | %.2f | **%.2f** | %.2f | %s | %d |" % (scenario, rps, spread, ratio, p("p50_us"), p("p99_us"), p("p999_us"), hits, errors))
    return "\n".join(out)

sent, asked = e["event_bytes"].split()
print(f"Machine: {e['machine']}; wrk shares the cores with the gateway. Event: {sent} bytes as sent to /sign, {asked} bytes as the check_event_for_spam body.")
print(f"Gateway: `java -jar` with the image's JVM flags ({e['flags']}); answer cache of {e['CACHE_SIZE']} events, b cycling through {e['DISTINCT']}; RSS after the run {int(e['rss_kib']) // 1024} MiB.")
print()
print(f"**At saturation**: {e['CONNECTIONS']} connections, {e['ROUNDS']} alternating rounds of {e['DURATION']} s after {e['WARMUP']} s of warm-up each; medians of the rounds (requests/s: median (lowest–highest)); cache hits: of the answer cache's look-ups during the scenario's rounds.")
print()
print(table(load(sys.argv[1])))
print()
print(f"**Paced** at about {e['PACED_RATE']} requests/s ({e['PACED_CONNECTIONS']} connections, Poisson), {e['ROUNDS']} alternating rounds of {e['PACED_DURATION']} s:")
print()
print(table(load(sys.argv[2])))
PY
{ echo "# Policy server: /sign against check_event_for_spam"; echo; echo "Written by \`bench/policy-server.sh\` on $(date -u +%Y-%m-%d)."; echo; cat "$OUT/report.md"; } > "$OUT/report-full.md"
mv "$OUT/report-full.md" "$REPORT"   # a failed report leaves the last one in place
cat "$REPORT"
