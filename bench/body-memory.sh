#!/usr/bin/env bash
# Whether a burst of costly policy API bodies, held in flight at once, kills the gateway: the build
# of BASE (default: the main line before the heap budget for request bodies, ffaf8d49^1) against
# this working tree's, in alternating order, each started with the image's JVM flags and the heap
# its default 512 MiB container gets (-Xmx = MaxRAMPercentage of 512 MiB, as the Dockerfile's flags
# give in the container). Each run is bench/body_memory.py (see its docstring): a chain of
# content_rules (the event's tree is built) and an http module whose local policy service holds each
# request 10 s, then N bodies at once on open connections: a 64 KB event of [{},{},...] to
# check_event_for_spam ("flood"), a room's state of 1 MB to check_event_allowed ("state"), or a
# realistic 2 KB event ("realistic": ordinary traffic held by a slow service).
#
#   bench/body-memory.sh [BASE]     ROUNDS (2), RUNS ("flood:50 flood:100 flood:200 flood:400 state:10 state:50 realistic:300"),
#                                   HOLD (10 s), GATEWAY_PORT (18420); BUILD=0 reuses the jars of an earlier run
#
# BASE is built in a fresh worktree under $TMPDIR or /tmp (removed at the end); the jars and each run's
# files go to target/bench/body-memory/, so runs by two users or in two checkouts never share a folder.
# Writes bench/body-memory.md (the runs' JSON lines in target/bench/body-memory.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh   # JAVA, image_jvm_flags

BASE=${1:-ffaf8d49^1}; ROUNDS=${ROUNDS:-2}; HOLD=${HOLD:-10}; GATEWAY_PORT=${GATEWAY_PORT:-18420}
RUNS=${RUNS:-"flood:50 flood:100 flood:200 flood:400 state:10 state:50 realistic:300"}
WORK=target/bench/body-memory; BASE_TREE=; RESULTS=target/bench/body-memory.jsonl
base_sha=$(git rev-parse --short "$BASE"); head_sha=$(git rev-parse --short HEAD)
head_label="HEAD $head_sha$(git diff --quiet HEAD -- src pom.xml || echo ' + working tree')"

finish() { # the servers of a run are its own (body_memory.py stops them); the worktree is ours
  cleanup
  [ -z "$BASE_TREE" ] || git worktree remove --force "$BASE_TREE" 2>/dev/null || rmdir "$BASE_TREE"
}
trap finish EXIT

# The container image's flags, its heap made explicit: MaxRAMPercentage of the default 512 MiB limit.
JVM_FLAGS=$(container_jvm_flags 512)

mkdir -p "$WORK" target/bench
if [ "${BUILD:-1}" = 1 ]; then
  ./mvnw -B -q -o -DskipTests package
  cp "$(product_jar)" "$WORK/head.jar"; echo "$head_label" > "$WORK/head.label"
  BASE_TREE=$(mktemp -d "${TMPDIR:-/tmp}/body-memory-base.XXXXXX")   # empty: git worktree add takes it
  git worktree add --detach "$BASE_TREE" "$BASE" >/dev/null
  (cd "$BASE_TREE" && ./mvnw -B -q -o -DskipTests package && cp "$(product_jar)" "$WORK/base.jar")
  echo "base $base_sha" > "$WORK/base.label"
fi

: > "$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
  for run in $RUNS; do
    builds=(base head); [ $((round % 2)) = 1 ] || builds=(head base)   # alternating: each goes first in half the rounds
    for build in "${builds[@]}"; do
      label=$(cat "$WORK/$build.label" 2>/dev/null || echo "$build (a jar built before)")   # what each jar was built from
      timeout 600 python3 bench/body_memory.py run --jar "$WORK/$build.jar" --label "$label" --scenario "${run%%:*}" \
          --concurrency "${run##*:}" --hold "$HOLD" --port "$GATEWAY_PORT" --jvm-flags "$JVM_FLAGS" --java "$JAVA" \
          --work "$WORK" | sed "s/^{/{\"round\": $round, /" | tee -a "$RESULTS"
    done
  done
done

{
  echo "# Request bodies held in flight: does the gateway survive?"
  echo
  echo "Written by \`bench/body-memory.sh $BASE\` on $(date -u +%Y-%m-%d) ($ROUNDS rounds, builds alternating, the"
  echo "policy service holding each request ${HOLD} s): JVM flags \`$JVM_FLAGS\`, each run a fresh gateway."
  echo "Builds: \`$(cat "$WORK/base.label" 2>/dev/null || echo base)\` ($BASE), \`$(cat "$WORK/head.label" 2>/dev/null || echo head)\`."
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."
  echo
  echo "Columns: *died*, the JVM's exit (3 and its OutOfMemoryError line: \`-XX:+ExitOnOutOfMemoryError\`);"
  echo "*answers*, by status and errcode, or the client's error when the connection broke, with the seconds"
  echo "the first and the last took; *live heap mid-burst*, what a full GC (jcmd GC.run) left halfway through"
  echo "the hold; *peak heap after GC*, the most any collection left (GC log); *peak RSS*, VmHWM;"
  echo "*gauge*, \`policy_requests_body_memory_bytes\` at its highest during the run (sampled every 250 ms)"
  echo "and once every answer had come, against \`policy_requests_body_memory_max_bytes\` (n/a: the base"
  echo "build has no such gauge); *2 KB event after*, a realistic \`check_event_for_spam\` sent right after"
  echo "the burst (the policy service answers it at once); *heap at end*, what a full GC left after it."
  echo
  python3 bench/body_memory.py report "$RESULTS"
} > bench/body-memory.md
cat bench/body-memory.md
