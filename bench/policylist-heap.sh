#!/usr/bin/env bash
# The smallest heap a large policy list loads in: the gateway starts with the image's JVM flags and
# each -Xmx in HEAPS, holding a policy_list instance whose file source has LARGE rules in the line
# format (and a 10,000-rule JSON source beside it, as bench/policylist-update.sh), and either puts
# every rule in force or dies of OutOfMemoryError (-XX:+ExitOnOutOfMemoryError). Then the file is
# replaced by one rule longer, as a list's update rewrites it: the rules in force stay live while the
# new ones load. Writes a Markdown table to stdout: heap, outcome, time from launch to every rule in
# force and RSS then, then the same for the replacement.
#
#   bench/policylist-heap.sh             LARGE=1000000, HEAPS="256m 320m 384m"; JAR (the packaged jar) and SKIP_BUILD=1 override
#
# A pod's heap is 75 % of its memory limit (the chart's default flags): 384m is the default 512Mi pod.
set -euo pipefail
cd "$(dirname "$0")/.."

LARGE=${LARGE:-1000000}; HEAPS=${HEAPS:-"256m 320m 384m"}; JAR=${JAR:-}
GATEWAY_PORT=${GATEWAY_PORT:-18390}; MANAGEMENT_PORT=$((GATEWAY_PORT + 1))
OUT=target/bench/policylist-heap
. bench/lib.sh   # require, JAVA, cleanup on exit, product_jar, image_jvm_flags, metric
require curl curl

[ "${SKIP_BUILD:-}" = 1 ] || ./mvnw -B -q -DskipTests package
JAR=${JAR:-$(product_jar)}
python3 bench/make_policylist_fixtures.py "$OUT" "$LARGE" 10000
cp "$OUT/updates-a.json" "$OUT/updates.json"
# the large source reads a copy, checked every second, so that replacing it is seen at once
sed -e 's#/large.txt"#/large-in-use.txt"#' -e 's#"check-interval": "60s"#"check-interval": "1s"#' "$OUT/gateway.yml" > "$OUT/heap.yml"
JVM_FLAGS=$(image_jvm_flags)

until_in_force() { # pid rules: until the large source has that many rules in force; prints the outcome
  until [ "$(in_force)" -ge "$2" ]; do
    kill -0 "$1" 2>/dev/null || { echo "died ($(grep -o 'OutOfMemoryError[^ ]*' "$OUT/gateway-$heap.log" | head -1 || echo exited))"; return; }
    sleep 0.2
  done
  echo loaded
}

rss() { echo $(( $(awk '/VmRSS/ {print $2}' /proc/"$1"/status) / 1024 )); }

in_force() { # the rules the large source has in force, all kinds together, as a whole number
  local rules
  rules=$(metric 'policy_module_policy_list_rules{' 'source="large"') || true   # 0 until the gateway answers
  printf '%.0f' "${rules:-0}"
}

echo "| heap (-Xmx) | $LARGE rules from a file | time to every rule in force | RSS then | the file replaced | time to the new rules in force | RSS then |"
echo "|---|---|---:|---:|---|---:|---:|"
for heap in $HEAPS; do
  cp "$OUT/large.txt" "$OUT/large-in-use.txt"
  started=$(date +%s%N)
  JAVA_TOOL_OPTIONS="$JVM_FLAGS -Xmx$heap" "$JAVA" -jar "$JAR" --server.port="$GATEWAY_PORT" \
    --management.server.port="$MANAGEMENT_PORT" --spring.config.additional-location="file:$OUT/heap.yml" > "$OUT/gateway-$heap.log" 2>&1 &
  pid=$!
  outcome=$(until_in_force "$pid" "$LARGE")
  if [ "$outcome" != loaded ]; then
    printf '| %s | %s | | | | | |\n' "$heap" "$outcome"
    wait "$pid" 2>/dev/null || true
    continue
  fi
  loaded=$(( ($(date +%s%N) - started) / 1000000 )); loaded_rss=$(rss "$pid")
  { cat "$OUT/large.txt"; echo "ban user @replaced:example.org"; } > "$OUT/large-next.txt"
  mv "$OUT/large-next.txt" "$OUT/large-in-use.txt"   # a new file in one step, as a ConfigMap's swap
  started=$(date +%s%N)
  replaced=$(until_in_force "$pid" $((LARGE + 1)))
  if [ "$replaced" = loaded ]; then
    printf '| %s | loaded | %d ms | %d MiB | loaded | %d ms | %d MiB |\n' "$heap" "$loaded" "$loaded_rss" \
      $(( ($(date +%s%N) - started) / 1000000 )) "$(rss "$pid")"
    kill "$pid"
  else
    printf '| %s | loaded | %d ms | %d MiB | %s | | |\n' "$heap" "$loaded" "$loaded_rss" "$replaced"
  fi
  wait "$pid" 2>/dev/null || true
done
