#!/usr/bin/env bash
# Issue 18: the whole send path through a real Synapse 1.67, from a client's PUT /send to its answer,
#   a. with no module;
#   b. with an in-process Python module doing the gateway chain's check (bench/inprocess_module.py:
#      a denylist of user IDs and globs, and 100 keywords as whole words);
#   c. with our module (synapse-module/) and the packaged gateway: `user_denylist` + `content_rules`
#      with the same users and keywords.
# The three homeservers run side by side and are timed in alternating rounds (a, b, c, a, b, c, ...),
# one client sending one innocent message at a time. The driver is bench/synapse_path.py, built on the
# e2e harness (e2e/harness, synapse-module/tests/gateway_process.py); Synapse comes from the shared
# tarball as in the e2e suite (e2e/README.md), run by Debian's python3.
#
#   bench/synapse-path.sh           full run (report in target/bench-synapse-path.md;
#                                   bench/synapse-path.md discusses a run), about 15 minutes
#   bench/synapse-path.sh --smoke   a few sends per variant, to prove the script still works
#
# ROUNDS, SENDS, WARMUP, ROUND_WARMUP, PAUSE_MS override the defaults (5, 500, 200, 20, 10);
# BUILD=0 uses the jar already built. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
export GATEWAY_JAVA="$JAVA"
if [ "${BUILD:-1}" = 1 ]; then
  ./mvnw -B -q -o -DskipTests package   # the jar, and the test classes gateway_process.py puts on loader.path
fi
exec /usr/bin/python3 bench/synapse_path.py "$@"
