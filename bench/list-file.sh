#!/usr/bin/env bash
# Issue 18's bar for large lists: a user_denylist whose 1,000,000 entries come from a users-file must
# be ready in under 5 s and under 300 MiB RSS. Starts the packaged gateway (the image's JVM flags)
# one scenario at a time, ROUNDS times each, and measures the time from launching the JVM to
# /actuator/health/readiness answering UP, then VmRSS once ready:
#   a. empty:    user_denylist with one inline user: the gateway's own cost, for reference;
#   b. file:     users-file of ENTRIES lines (one glob in a hundred, a comment line in a thousand);
#   c. yaml:     YAML_ENTRIES users inline in the YAML, the way issue 18 measured (YAML_ENTRIES=0 skips it).
# Each gateway must refuse a listed exact ID and a listed glob's user on user_may_invite, and let
# an unlisted user through, before its figures count.
#
#   bench/list-file.sh    report in target/bench-list-file/results.md (bench/list-file.md discusses a run)
#
# ENTRIES, YAML_ENTRIES, ROUNDS override the defaults; BUILD=0 uses the jar already built. The
# times include the JVM's and Spring's own startup: compare with the empty scenario of the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-1000000}; YAML_ENTRIES=${YAML_ENTRIES:-100000}; ROUNDS=${ROUNDS:-3}
TOKEN=list-file-token
OUT=target/bench-list-file

. bench/lib.sh
if [ "${BUILD:-1}" = 1 ]; then ./mvnw -B -q -o -DskipTests package; fi
jar=$(product_jar)
rm -rf "$OUT"; mkdir -p "$OUT"

# The list: exact IDs @user<i>:server<i mod 1000>.example, every hundredth a glob @spam<i>-*:*.
python3 - "$OUT" "$ENTRIES" "$YAML_ENTRIES" "$TOKEN" <<'PY'
import pathlib, sys
out, entries, yaml_entries, token = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def entry(i):
    return f"@spam{i}-*:*" if i % 100 == 99 else f"@user{i}:server{i % 1000}.example"
with open(out / "users.txt", "w") as f:
    f.write("# bench/list-file.sh: exact user IDs, one glob in a hundred\n")
    for i in range(entries):
        if i % 1000 == 500:
            f.write("# a comment line\n")
        f.write(entry(i) + "\n")
head = f"policy-gateway:\n  server-name: example.com\n  auth:\n    token: {token}\n  modules:\n" \
       "    - module: user_denylist\n      name: denylist\n      config:\n"
(out / "gateway-empty.yml").write_text(head + '        users: ["@nobody:example.com"]\n')
(out / "gateway-file.yml").write_text(head + f"        users-file: {(out / 'users.txt').resolve()}\n")
with open(out / "gateway-yaml.yml", "w") as f:
    f.write(head + "        users:\n")
    for i in range(yaml_entries):
        f.write(f'          - "{entry(i)}"\n')
PY

# The container image's JVM flags (Dockerfile), as the other bench scripts.
flags=$(image_jvm_flags)

invite() { # inviter -> HTTP status of user_may_invite
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary "{\"inviter\": \"$1\", \"invitee\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}" \
    "http://127.0.0.1:$PORT/v1/spam_checker/user_may_invite"
}

exact() { # i -> the list's i-th entry, when i % 100 != 99 an exact ID
  echo "@user$1:server$(($1 % 1000)).example"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run() { # scenario round listed-exact listed-glob -> one line: scenario round ms-to-ready rss-kib
  local scenario=$1 round=$2 log="$OUT/gateway-$1-$2.log" start pid ready rss
  PORT=$(free_port); MANAGEMENT_PORT=$(free_port)   # fresh ports: a machine shared with other benchmarks
  start=$(date +%s%N)
  JAVA_TOOL_OPTIONS="$flags" "$JAVA" -jar "$jar" --server.port="$PORT" --management.server.port="$MANAGEMENT_PORT" \
    --spring.config.additional-location="file:$OUT/gateway-$scenario.yml" > "$log" 2>&1 &
  pid=$!
  wait_for "$pid" "$log" "http://127.0.0.1:$MANAGEMENT_PORT/actuator/health/readiness"
  ready=$(( ($(date +%s%N) - start) / 1000000 ))
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  for listed in "$3" "$4"; do
    [ "$(invite "$listed")" = 403 ] || { echo "$scenario: $listed was not refused" >&2; exit 1; }
  done
  [ "$(invite "@alice:example.com")" = 200 ] || { echo "$scenario: @alice:example.com was refused" >&2; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\n' "$scenario" "$round" "$ready" "$rss"
}

results="$OUT/results.tsv"; : > "$results"
scenarios="empty file"; [ "$YAML_ENTRIES" -gt 0 ] && scenarios="$scenarios yaml"
for ((round = 1; round <= ROUNDS; round++)); do
  for scenario in $scenarios; do
    case $scenario in
      empty) run empty "$round" "@nobody:example.com" "@NOBODY:example.com" >> "$results" ;;
      file) run file "$round" "$(exact $((ENTRIES - 2)) | tr a-z A-Z)" "@spam$((ENTRIES - 1))-offers:elsewhere.example" >> "$results" ;;
      yaml) run yaml "$round" "$(exact $((YAML_ENTRIES - 2)) | tr a-z A-Z)" "@spam$((YAML_ENTRIES - 1))-offers:elsewhere.example" >> "$results" ;;
    esac
    tail -1 "$results"
  done
done

{
  echo "# bench/list-file.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ENTRIES=$ENTRIES, YAML_ENTRIES=$YAML_ENTRIES, ROUNDS=$ROUNDS"
  echo
  echo "| scenario | start to ready, median (ms) | RSS once ready, median (MiB) | RSS above empty (MiB) |"
  echo "|---|---|---|---|"
  awk -F'\t' '
    function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
    { ms[$1] = ms[$1] " " $3; rss[$1] = rss[$1] " " $4; if (!($1 in seen)) { seen[$1] = 1; order[++count] = $1 } }
    END {
      base = median(rss["empty"]) / 1024
      for (k = 1; k <= count; k++) { s = order[k]; r = median(rss[s]) / 1024
        printf "| %s | %d | %.0f | %+.0f |\n", s, median(ms[s]), r, r - base }
    }' "$results"
} > "$OUT/results.md"
cat "$OUT/results.md"
