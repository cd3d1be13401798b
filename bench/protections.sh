#!/usr/bin/env bash
# Issue 16's bar for the protections: check_event_for_spam through `rate_limits` and `content_rules`,
# state in memory and in Redis, side by side with bench/run.sh's baseline, in one run. Starts the
# baseline (dev.matrixpolicy.bench.BaselineServer: the same Tomcat, answering 200 {} without parsing),
# a real redis-server on a free loopback port, and three gateways (the jar, the image's JVM flags):
#   a. baseline;
#   b. gateway, one `static` module: the gateway's own cost (HTTP, JSON, chain), for reference;
#   c. gateway, rate_limits (events per sender) + content_rules (1,000 keywords, 100 regexes, link
#      and mention rules), state in memory;
#   d. the same, state in Redis.
# Every request is a ~2.5 KB m.room.message from one of SENDERS senders that no rule refuses, so
# every rule runs; the report checks 0 refusals from each gateway's metrics. wrk drives the servers
# in alternating rounds at saturation (CONNECTIONS), then paced at PACED_RATE requests/s for the
# latency Redis adds.
#
#   bench/protections.sh           full run (report in target/bench-protections-results.md;
#                                  bench/protections.md discusses a run), about 13 minutes
#   bench/protections.sh --smoke   a few seconds a scenario, to prove the script still works
#
# DURATION, ROUNDS, CONNECTIONS, WARMUP, PACED_RATE, PACED_DURATION, SENDERS override the defaults;
# BUILD=0 uses the jars already built. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}; ROUNDS=${ROUNDS:-3}; CONNECTIONS=${CONNECTIONS:-"16 64"}; WARMUP=${WARMUP:-10}
PACED_RATE=${PACED_RATE:-1000}; PACED_DURATION=${PACED_DURATION:-20}; PACED_CONNECTIONS=8
SENDERS=${SENDERS:-10000}; BUILD=${BUILD:-1}
OUT=target/bench-protections; REPORT=target/bench-protections-results.md
if [ "${1:-}" = "--smoke" ]; then
  DURATION=1; ROUNDS=1; CONNECTIONS=64; WARMUP=1; PACED_DURATION=1; SENDERS=1000; REPORT=$OUT/results-smoke.md
fi
PORT_BASE=${PORT_BASE:-18490}   # the baseline, then each gateway's API and management ports

. bench/lib.sh
require wrk wrk
require redis-server redis-server
build_offline   # the gateway runs from the product jar; the baseline from the bench profile's build
rm -rf "$OUT"; mkdir -p "$OUT/redis"
jar=$(product_jar)

# Redis as in the tests (src/test/.../support/RedisServer.java): loopback, a free port, no persistence.
REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$PWD/$OUT/redis" \
  --daemonize no > "$OUT/redis/redis.log" 2>&1 &
redis_pid=$!
until [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
  kill -0 "$redis_pid" 2>/dev/null || { cat "$OUT/redis/redis.log" >&2; exit 1; }; sleep 0.1
done

f="$OUT/fixtures"
python3 bench/make_protections_fixtures.py "$f" "$REDIS_PORT" "$SENDERS" > "$OUT/fixtures.log"

SCENARIOS=("a baseline" "b gateway, 1 static module" "c rate_limits + content_rules, memory" "d rate_limits + content_rules, Redis")
CONFIGS=([1]=plain [2]=memory [3]=redis)
api_port() { echo $((PORT_BASE + 2 * $1)); }        # scenario index -> port (0: the baseline)
management_port() { echo $((PORT_BASE + 2 * $1 + 1)); }

# The container image's JVM flags (Dockerfile) for the gateways and the baseline, as bench/run.sh.
export JAVA_TOOL_OPTIONS
JAVA_TOOL_OPTIONS=$(image_jvm_flags)
"$JAVA" -cp "target/bench/classes:$(cat target/bench/bench-classpath.txt)" dev.matrixpolicy.bench.BaselineServer \
  "$(api_port 0)" > "$OUT/baseline.log" 2>&1 &
baseline_pid=$!
declare -A gateway_pids
for i in 1 2 3; do
  "$JAVA" -jar "$jar" --server.port="$(api_port $i)" --management.server.port="$(management_port $i)" \
    --spring.config.additional-location="file:$f/gateway-${CONFIGS[$i]}.yml" > "$OUT/gateway-${CONFIGS[$i]}.log" 2>&1 &
  gateway_pids[$i]=$!
done
wait_for "$baseline_pid" "$OUT/baseline.log" -X POST "http://127.0.0.1:$(api_port 0)/"
for i in 1 2 3; do
  wait_for "${gateway_pids[$i]}" "$OUT/gateway-${CONFIGS[$i]}.log" "http://127.0.0.1:$(management_port $i)/actuator/health/readiness"
done
unset JAVA_TOOL_OPTIONS   # not for wrk, curl and redis-cli

# Every gateway must answer NOT_SPAM (every rule ran, none refused) before anything is timed.
IFS=$'\t' read -r path authorization body < "$f/events.tsv"
for i in 1 2 3; do
  answer=$(curl -s -w ' HTTP %{http_code}' -H "Authorization: $authorization" -H 'Content-Type: application/json' \
    --data-binary "$body" "http://127.0.0.1:$(api_port $i)$path")
  case $answer in *NOT_SPAM*'HTTP 200') ;; *) echo "${SCENARIOS[$i]}: $answer" >&2; exit 1 ;; esac
done

drive() { # scenario-index connections seconds -> one JSON summary line (PACE_MS in the environment paces it)
  local threads=$(( $2 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$2" -d"${3}s" -s bench/lua/signed.lua "http://127.0.0.1:$(api_port "$1")" -- "$f/events.tsv" | grep '^{'
}

alternate() { # results-file connections seconds: ROUNDS rounds of every scenario in turn
  local file=$1 connections=$2 seconds=$3 summary
  for ((round = 1; round <= ROUNDS; round++)); do
    for i in "${!SCENARIOS[@]}"; do
      summary=$(drive "$i" "$connections" "$seconds")   # no summary line: wrk failed, and so does the script
      printf '%s\t%s\t%s\t%s\n' "${SCENARIOS[$i]}" "$connections" "$round" "$summary" >> "$file"
    done
  done
}

results="$OUT/results.tsv"; : > "$results"
for connections in $CONNECTIONS; do
  for i in "${!SCENARIOS[@]}"; do drive "$i" "$connections" "$WARMUP" > /dev/null; done
  alternate "$results" "$connections" "$DURATION"
  echo "done: $connections connections" >&2
done

# Latency at a moderate load: a Poisson stream of about PACED_RATE requests/s (bench/lua/pace.lua).
paced="$OUT/paced.tsv"; : > "$paced"
PACE_MS=$(awk -v c="$PACED_CONNECTIONS" -v r="$PACED_RATE" 'BEGIN {print c * 1000 / r}') alternate "$paced" "$PACED_CONNECTIONS" "$PACED_DURATION"
echo "done: paced at $PACED_RATE requests/s" >&2

# What each gateway counted, warm-up included: answers by outcome, refusals by the two modules, failures; and RSS.
counts="$OUT/counts.tsv"; : > "$counts"
for i in 1 2 3; do
  curl -s "http://127.0.0.1:$(management_port $i)/actuator/prometheus" | awk -v s="${SCENARIOS[$i]}" \
    -v rss="$(ps -o rss= -p "${gateway_pids[$i]}" | tr -d ' ')" '
    /^policy_decisions_total\{/ && /callback="check_event_for_spam"/ { decisions += $NF; if ($0 !~ /NOT_SPAM|outcome="allow"/) other += $NF }
    /^policy_module_rate_limits_refusals_total/ { limits += $NF }
    /^policy_module_content_rules_matches_total/ { rules += $NF }
    /^policy_module_failures_total/ { failures += $NF }
    /^policy_state_failures_total/ { redis += $NF }
    END { printf "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s, decisions, other, limits, rules, failures, redis, rss }' >> "$counts"
done
redis_keys=$(redis-cli -p "$REDIS_PORT" dbsize)
redis_commands=$(redis-cli -p "$REDIS_PORT" info commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),usec=\([0-9]*\),.*/\1 \2/p')

machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $("$JAVA" -version 2>&1 | grep -m1 ' version '), $(redis-server --version | cut -d' ' -f1-3)"
flags=$(image_jvm_flags)
event_bytes=$(sed -n 's/^event body: \([0-9]*\) bytes.*/\1/p' "$OUT/fixtures.log")
load=$(cut -d' ' -f1-3 /proc/loadavg)
export machine flags event_bytes load redis_keys redis_commands SENDERS ROUNDS DURATION WARMUP PACED_RATE PACED_CONNECTIONS PACED_DURATION
python3 - "$results" "$paced" "$counts" > "$OUT/report.md" <<'PY'
import collections, json, os, statistics, sys
e = os.environ

def load(path):
    runs = collections.defaultdict(list)   # (connections, scenario) -> {round: summary}
    for line in open(path):
        scenario, connections, round_, summary = line.rstrip("\n").split("\t", 3)
        runs[(int(connections), scenario)].append((int(round_), json.loads(summary)))
    return runs

def rate(s): return s["requests"] / s["seconds"]
def med(xs): return statistics.median(xs)

def table(runs, against, added):
    out = ["| connections | scenario | requests/s (lowest–highest) | vs baseline | p50 ms | p99 ms | p99.9 ms | %s | errors |" % added[0],
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (connections, scenario), rounds in runs.items():
        base = dict(runs[(connections, "a baseline")])
        ref = dict(runs[(connections, against)])
        this = dict(rounds)
        rates = [rate(s) for s in this.values()]
        # Ratios and differences are taken round by round (each next to the baseline's round), then the median.
        ratio = "" if scenario.startswith("a") else "**%.2f×**" % med([rate(this[r]) / rate(base[r]) for r in this])
        extra = "" if not scenario.startswith(added[1]) else "%+.2f" % med([(this[r]["p99_us"] - ref[r]["p99_us"]) / 1000 for r in this])
        p = lambda key: med([s[key] for s in this.values()]) / 1000
        errors = sum(s["errors"] + s["non2xx"] for s in this.values())
        out.append("| %d | %s | %.0f (%.0f–%.0f) | %s | %.2f | %.2f | %.2f | %s | %d |" % (
            connections, scenario, med(rates), min(rates), max(rates), ratio, p("p50_us"), p("p99_us"), p("p999_us"), extra, errors))
    return "\n".join(out)

print(f"Machine: {e['machine']}; wrk and redis-server share the cores with the servers; load average {e['load']} at the end of the run.")
print(f"Gateways: `java -jar` with the image's JVM flags ({e['flags']}). Requests: a {e['event_bytes']}-byte "
      f"`check_event_for_spam` body, the same message from {e['SENDERS']} senders in turn.")
print()
print(f"**At saturation**: {e['ROUNDS']} alternating rounds of {e['DURATION']} s per scenario after {e['WARMUP']} s of warm-up each; "
      "medians of the rounds; the ratio and the difference are taken round by round.")
print()
print(table(load(sys.argv[1]), "c rate_limits + content_rules, memory", ("d − c p99 ms", "d")))
print()
print(f"**Paced** at about {e['PACED_RATE']} requests/s ({e['PACED_CONNECTIONS']} connections, Poisson), "
      f"{e['ROUNDS']} alternating rounds of {e['PACED_DURATION']} s:")
print()
print(table(load(sys.argv[2]), "c rate_limits + content_rules, memory", ("d − c p99 ms", "d")))
print()
print("**What the gateways counted** (`/actuator/prometheus` after the run; the probe request included):")
print()
print("| scenario | check_event_for_spam decisions | not NOT_SPAM | rate_limits refusals | content_rules matches | module failures | Redis failures | RSS MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for line in open(sys.argv[3]):
    s, decisions, other, limits, rules, failures, redis, rss = line.rstrip("\n").split("\t")
    print(f"| {s} | {int(decisions):,} | {other} | {limits} | {rules} | {failures} | {redis} | {int(rss) // 1024} |")
print()
print("Warm-up included: a failure of `rate_limits` (Redis slower than the 200 ms command timeout) is counted "
      "once as a module failure and once as a Redis failure, and let through (`on-failure: fail-open`).")
calls, usec = (e["redis_commands"] or "0 0").split()
print()
print(f"Redis after the run: {e['redis_keys']} keys; {int(calls):,} `EVALSHA` calls, "
      f"{int(usec) / max(1, int(calls)):.2f} µs each inside Redis (its own `INFO commandstats`).")
PY
{ echo "# Protections: rate_limits and content_rules against the baseline"; echo
  echo "Written by \`bench/protections.sh\` on $(date -u +%Y-%m-%d)."; echo; cat "$OUT/report.md"; } > "$OUT/report-full.md"
mv "$OUT/report-full.md" "$REPORT"   # a failed report leaves the last one in place
cat "$REPORT"
