#!/usr/bin/env bash
# Start to ready of the gateway on its embedded default configuration, several ways side by side:
# from the launch of `java` to the first 200 of /actuator/health/readiness (polled every 20 ms with
# curl), and the "Started ... in X seconds" Spring logs. The ways run in alternating rounds, so the
# noise of a shared machine hits each alike; the report gives each way's median and the load average.
#
#   bench/startup.sh [way ...]       (default: jar image)
#
# Ways:
#   jar        plain `java -jar` of the packaged jar, with the image's JAVA_TOOL_OPTIONS
#   image      the Dockerfile's recipe: the jar extracted, the JDK AOT cache from bin/aot-cache
#   extracted  the image's extracted layout without the AOT cache (the nested jar's own cost)
#   jar-aot    plain `java -jar` of the packaged jar with an AOT cache trained on that same jar
#   image-c1   `image` with -XX:TieredStopAtLevel=1 (C1 only: faster start, slower peak)
#   image-late-c2 `image` with C2's (tier 4) thresholds ten times the defaults: fewer C2 compilations
#              competing with the start for the CPU, the same code once warm
#   image-adapters `image` with JDK 25's AOTAdapterCaching and AOTStubCaching (diagnostic flags), at
#              training and at run: adapters and stubs from the cache too
#   image-lazy `image` with spring.main.lazy-initialization=true: the most that lazy beans could
#              save (not a candidate as such: a bad setting would fail the first request, not startup)
#   spring-aot `image` on a jar built with Spring's AOT processing (-Pspring-aot), run with
#              -Dspring.aot.enabled=true, and its own AOT cache
#   flat       plain `java -jar` of a flat ("shaded") jar (-Pflat-jar): every class on the JDK's own
#              class path, no nested-jar loader
#   flat-aot   `flat` with an AOT cache trained on that flat jar (the image's recipe, on a flat jar)
#
# STARTS (default 5) rounds; BASE (default: the first way) for the round-by-round ratios; BUILD=1 packages the jar first (otherwise target/ must hold it);
# JFR=<way> records one extra start of that way with JFR and prints where its samples went.
# Output under target/startup/: startup.tsv (way, ms to ready, Spring's seconds, and the CPU ms used by
# then: the main thread, the JIT compiler threads, the whole process), report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh   # JAVA, require, cleanup on exit, product_jar
require curl curl

STARTS=${STARTS:-5}
OUT=target/startup
ways=("$@"); [ ${#ways[@]} -gt 0 ] || ways=(jar image)
PORT=${PORT:-18590}; MANAGEMENT=$((PORT + 1))
export JAVA_TOOL_OPTIONS
JAVA_TOOL_OPTIONS=$(image_jvm_flags)

[ "${BUILD:-0}" = 0 ] || ./mvnw -B -q -o -DskipTests package
mkdir -p "$OUT"
jar=$(product_jar)

extract() { # jar directory: as the Dockerfile does (one directory, no layers, same class path)
  rm -rf "$2"
  "$JAVA" -Djarmode=tools -jar "$1" extract --destination "$2" > /dev/null
}
train() { # jar cache [java flags...]: bin/aot-cache's training run, unless the cache is newer than the jar
  local target=$1 cache=$2; shift 2
  [ "$cache" -nt "$target" ] && return
  JAVA_TOOL_OPTIONS="$JAVA_TOOL_OPTIONS $*" JAVA="$JAVA" TRAINING_PORT=$((PORT + 10)) \
    bin/aot-cache "$target" "$cache" > "$OUT/training.log" 2>&1 || { cat "$OUT/training.log" >&2; exit 1; }
}

LATE_C2="-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000 -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"
# Each way's java arguments, set in args_<way> once its jar and cache are ready.
declare -A args
for way in "${ways[@]}"; do
  case $way in
    jar) args[$way]="-jar $jar" ;;
    jar-c1) args[$way]="-XX:TieredStopAtLevel=1 -jar $jar" ;;   # the most that holding C2 back during a plain start could give
    image | image-c1 | image-late-c2 | image-lazy)
      [ -d "$OUT/image" ] && [ "$OUT/image" -nt "$jar" ] || extract "$jar" "$OUT/image"
      train "$OUT/image/$(basename "$jar")" "$OUT/image.aot"
      args[$way]="-XX:AOTCache=$OUT/image.aot -jar $OUT/image/$(basename "$jar")"
      case $way in
        image-c1) args[$way]="-XX:TieredStopAtLevel=1 ${args[$way]}" ;;
        image-late-c2) args[$way]="$LATE_C2 ${args[$way]}" ;;
        image-lazy) args[$way]="-Dspring.main.lazy-initialization=true ${args[$way]}" ;;
      esac ;;
    extracted)   # the image's layout without its AOT cache: what the nested jar itself costs
      [ -d "$OUT/image" ] && [ "$OUT/image" -nt "$jar" ] || extract "$jar" "$OUT/image"
      args[$way]="-jar $OUT/image/$(basename "$jar")" ;;
    image-adapters)   # JDK 25's diagnostic AOTAdapterCaching and AOTStubCaching, at training and at run
      [ -d "$OUT/image" ] && [ "$OUT/image" -nt "$jar" ] || extract "$jar" "$OUT/image"
      ADAPTERS="-XX:+UnlockDiagnosticVMOptions -XX:+AOTAdapterCaching -XX:+AOTStubCaching"
      train "$OUT/image/$(basename "$jar")" "$OUT/image-adapters.aot" $ADAPTERS
      args[$way]="$ADAPTERS -XX:AOTCache=$OUT/image-adapters.aot -jar $OUT/image/$(basename "$jar")" ;;
    jar-aot)
      train "$jar" "$OUT/jar.aot"
      args[$way]="-XX:AOTCache=$OUT/jar.aot -jar $jar" ;;
    spring-aot)
      aot_jar=$OUT/spring-aot.jar
      if ! [ "$aot_jar" -nt "$jar" ]; then   # its own build directory (pom.xml), target/ keeps the product jar
        # process-aot compiles its generated sources in Maven's own JVM, so Maven runs on the JDK 25.
        JAVA_HOME=$(dirname "$(dirname "$JAVA")") PATH=$(dirname "$JAVA"):$PATH ./mvnw -B -q -o -Pspring-aot -DskipTests package > "$OUT/spring-aot-build.log" 2>&1 \
          || { cat "$OUT/spring-aot-build.log" >&2; exit 1; }
        cp "$(ls target/spring-aot-build/matrix-policy-gateway-*.jar | grep -v -e '-plain' | head -1)" "$aot_jar"
      fi
      [ -d "$OUT/spring-aot" ] && [ "$OUT/spring-aot" -nt "$aot_jar" ] || extract "$aot_jar" "$OUT/spring-aot"
      train "$OUT/spring-aot/spring-aot.jar" "$OUT/spring-aot.aot" -Dspring.aot.enabled=true
      args[$way]="-Dspring.aot.enabled=true -XX:AOTCache=$OUT/spring-aot.aot -jar $OUT/spring-aot/spring-aot.jar" ;;
    flat | flat-aot)
      flat_jar=$OUT/flat.jar
      if ! [ "$flat_jar" -nt "$jar" ]; then   # its own build directory (pom.xml), target/ keeps the product jar
        ./mvnw -B -o -Pflat-jar -DskipTests package > "$OUT/flat-build.log" 2>&1 \
          || { cat "$OUT/flat-build.log" >&2; exit 1; }
        cp target/flat-jar-build/matrix-policy-gateway-*-flat.jar "$flat_jar"
      fi
      if [ "$way" = flat ]; then
        args[$way]="-jar $flat_jar"
      else
        train "$flat_jar" "$OUT/flat.aot"
        args[$way]="-XX:AOTCache=$OUT/flat.aot -jar $flat_jar"
      fi ;;
    *) echo "unknown way: $way" >&2; exit 2 ;;
  esac
done

cpu_ms() { # a /proc stat file: the CPU milliseconds (user and system) of that process or thread so far
  awk -v tick="$((1000 / $(getconf CLK_TCK)))" '{ print ($14 + $15) * tick }' "$1"
}
cpu_at_ready() { # pid: "main compilers total", the CPU milliseconds its threads have used so far
  local main=0 compilers=0 task used
  for task in /proc/"$1"/task/*; do
    used=$(cpu_ms "$task/stat")
    case $(cat "$task/comm") in
      java) [ "$used" -gt "$main" ] && main=$used ;;   # the launcher's thread is the other "java", idle
      C1\ CompilerThre* | C2\ CompilerThre*) compilers=$((compilers + used)) ;;
    esac
  done
  echo "$main $compilers $(cpu_ms /proc/"$1"/stat)"
}

start() { # way [extra java flags...]: one start, until ready; prints "ms seconds main compilers total"
          # (Spring's "Started ... in" seconds, then cpu_at_ready)
  local way=$1 started pid ms cpu; shift
  started=$(date +%s%N)
  # shellcheck disable=SC2086
  "$JAVA" "$@" ${args[$way]} --server.address=127.0.0.1 --server.port="$PORT" \
    --management.server.address=127.0.0.1 --management.server.port="$MANAGEMENT" > "$OUT/start.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$MANAGEMENT/actuator/health/readiness"; do
    kill -0 "$pid" 2>/dev/null || { cat "$OUT/start.log" >&2; echo "$way: the gateway died" >&2; exit 1; }
    sleep 0.02
  done
  ms=$(( ($(date +%s%N) - started) / 1000000 ))
  cpu=$(cpu_at_ready "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$ms $(sed -n 's/.*Started PolicyGatewayApplication in \([0-9.]*\) seconds.*/\1/p' "$OUT/start.log" | head -1) $cpu"
}

results=$OUT/startup.tsv; : > "$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((i = 1; i <= STARTS; i++)); do   # alternating: round i starts every way once
  for way in "${ways[@]}"; do
    timing=$(start "$way") || exit 1   # a start that fails stops the run
    read -r ms spring main compilers total <<< "$timing"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$way" "$ms" "$spring" "$main" "$compilers" "$total" | tee -a "$results"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=${BASE:-${ways[0]}}
ratios() { # way: its time to ready over the base way's, round by round (the n-th start of each)
  paste <(awk -v w="$1" '$1 == w { print $2 }' "$results") <(awk -v w="$base" '$1 == w { print $2 }' "$results") \
    | awk '{ printf "%.2f\n", $1 / $2 }'
}
{
  echo "Start to ready, default configuration, $STARTS alternating starts per way, $(nproc) cores,"
  echo "load average (1, 5, 15 min) $load_before before and $load_after after; $(JAVA_TOOL_OPTIONS= "$JAVA" -version 2>&1 | sed -n '/version/p')."
  echo
  echo "| way | median to ready | min | max | Spring's \"Started in\" (median) | median of the round-by-round ratio to $base | CPU at ready, median: main thread / JIT compilers / all |"
  echo "|---|---|---|---|---|---|---|"
  column() { awk -v w="$1" -v c="$2" '$1 == w { print $c }' "$results" | median; }
  for way in "${ways[@]}"; do
    ready=$(awk -v w="$way" '$1 == w { print $2 }' "$results")
    printf '| %s | %s ms | %s | %s | %s s | %s | %s / %s / %s ms |\n' "$way" "$(median <<< "$ready")" \
      "$(sort -n <<< "$ready" | head -1)" "$(sort -n <<< "$ready" | tail -1)" \
      "$(column "$way" 3)" "$(ratios "$way" | median)" "$(column "$way" 4)" "$(column "$way" 5)" "$(column "$way" 6)"
  done
} | tee "$OUT/report.md"

if [ -n "${JFR:-}" ]; then   # one more start of that way, recorded: where the samples went
  rm -f "$OUT/start.jfr"
  start "$JFR" "-XX:StartFlightRecording=filename=$OUT/start.jfr,settings=profile,dumponexit=true" > /dev/null
  JAVA_TOOL_OPTIONS= "$(dirname "$JAVA")/jfr" print --stack-depth 256 --events jdk.ExecutionSample "$OUT/start.jfr" > "$OUT/samples.txt"
  python3 bench/startup_profile.py "$OUT/samples.txt" | tee "$OUT/profile.md"
fi
