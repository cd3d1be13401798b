#!/usr/bin/env bash
# Hostile federation traffic on the policy server's listener, phase after phase, while two steady
# streams are timed: policy API requests (the homeserver's own path), and an honest homeserver's signed
# /sign requests to the listener itself (honest.bench, 2 keep-alive connections). Do both stay
# answered, and what do the listener's limits (docs/policy-server.md, "Connections", "Rate limit",
# "What a key fetch may cost") answer? Starts the gateway jar with the image's JVM flags and the heap
# of a 512 MiB container (-Xmx307m), the policy server enabled with a generated key, and stand-in key
# servers: good.bench's and honest.bench's (on KEY_PORT, at 127.0.0.1 and 127.0.0.2), and one that
# accepts connections and never answers (slow0.bench ... slow63.bench). The phases and what each
# sends: bench/policy_server_burst.py.
#
#   bench/policy-server-burst.sh           every phase, about 4 minutes (report: target/bench-policy-server-burst/report.md;
#                                          bench/policy-server-burst.md discusses a run)
#   bench/policy-server-burst.sh --smoke   every phase in a few seconds each, to prove the script works
#
# PHASES (a comma-separated subset), CONTAINER_MIB (512), API_PORT, MANAGEMENT_PORT, FEDERATION_PORT,
# KEY_PORT, SILENT_PORT (18460 to 18464) override the defaults; BUILD=0 uses the jar already built.
# The attacking clients need a few thousand file descriptors (ulimit -n). Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh   # JAVA, product_jar, policy_server_key, container_jvm_flags, wait_for, cleanup

OUT=target/bench-policy-server-burst; SMOKE=()
[ "${1:-}" != "--smoke" ] || SMOKE=(--smoke)
API_PORT=${API_PORT:-18460}; MANAGEMENT_PORT=${MANAGEMENT_PORT:-18461}; FEDERATION_PORT=${FEDERATION_PORT:-18462}
KEY_PORT=${KEY_PORT:-18463}; SILENT_PORT=${SILENT_PORT:-18464}; CONTAINER_MIB=${CONTAINER_MIB:-512}
tool=bench/policy_server_burst.py
# Ed25519 for the signed requests: Debian's python3-cryptography (a module, not a command: require cannot look for it)
python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null ||
  { apt-get -o DPkg::Lock::Timeout=300 update -q && apt-get -o DPkg::Lock::Timeout=300 install -y -q python3-cryptography; }
[ "$(ulimit -n)" -ge 10000 ] || ulimit -n 10000 2>/dev/null || echo "ulimit -n is $(ulimit -n): the slow clients may run out" >&2

[ "${BUILD:-1}" = 0 ] || ./mvnw -B -q -o -DskipTests package
rm -rf "$OUT"; mkdir -p "$OUT"
jar=$(product_jar)
policy_server_key "$jar" "$PWD/$OUT/policy_server.key"
python3 "$tool" config --federation-port "$FEDERATION_PORT" --key-port "$KEY_PORT" --silent-port "$SILENT_PORT" \
  --key-file "$PWD/$OUT/policy_server.key" "${SMOKE[@]}" > "$OUT/gateway.yml"   # JSON is YAML

python3 "$tool" keyservers --key-port "$KEY_PORT" --silent-port "$SILENT_PORT" > "$OUT/keyservers.log" 2>&1 &
keyservers_pid=$!
until grep -qs '^ready' "$OUT/keyservers.log"; do
  kill -0 "$keyservers_pid" 2>/dev/null || { cat "$OUT/keyservers.log" >&2; exit 1; }; sleep 0.1
done

flags=$(container_jvm_flags "$CONTAINER_MIB")
JAVA_TOOL_OPTIONS=$flags "$JAVA" -jar "$jar" --server.port="$API_PORT" --management.server.port="$MANAGEMENT_PORT" \
  --spring.config.additional-location="file:$OUT/gateway.yml" > "$OUT/gateway.log" 2>&1 &
gateway_pid=$!
wait_for "$gateway_pid" "$OUT/gateway.log" "http://127.0.0.1:$MANAGEMENT_PORT/actuator/health/readiness"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
python3 "$tool" run --pid "$gateway_pid" --api-port "$API_PORT" --management-port "$MANAGEMENT_PORT" \
  --federation-port "$FEDERATION_PORT" ${PHASES:+--phases "$PHASES"} "${SMOKE[@]}" | tee "$OUT/results.jsonl" || status=$?
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Policy server under hostile traffic: the policy API's and an honest homeserver's answers, phase by phase"
  echo
  echo "Written by \`bench/policy-server-burst.sh ${SMOKE[*]}\` on $(date -u +%Y-%m-%d): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "$("$JAVA" -version 2>&1 | grep -m1 ' version '); the gateway's JVM flags \`$flags\` (a $CONTAINER_MIB MiB container's heap)."
  echo "Load average before the phases: $load_before; after: $load_after. The listener's limits: the defaults. The gateway's log:"
  echo "$(grep -cE '^[0-9T:.Z+-]+ +(WARN|ERROR) ' "$OUT/gateway.log" || true) lines at WARN or ERROR (\`$OUT/gateway.log\`)."
  echo
  python3 "$tool" report "$OUT/results.jsonl"
} > "$OUT/report.md"
cat "$OUT/report.md"
exit "$status"
