# Shared by the bench scripts (sourced from the repository's root): the tools they need, the JDK,
# the jars, and starting and stopping the servers they drive.

require() { # command debian-package: installs the package with apt-get when the command is missing
  # A fresh machine runs its own updates at boot: wait up to 5 minutes for their dpkg lock rather than fail.
  command -v "$1" >/dev/null || { apt-get -o DPkg::Lock::Timeout=300 update -q && apt-get -o DPkg::Lock::Timeout=300 install -y -q "$2"; }
}

# The JDK 25 the servers run on: $JAVA, or the first one under /usr/lib/jvm.
JAVA=${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
[ -x "$JAVA" ] || { echo "no JDK 25 found; set JAVA=/path/to/java" >&2; exit 1; }

build_offline() { # unless BUILD=0: the product jar, then the bench profile's build (target/bench)
  if [ "${BUILD:-1}" = 1 ]; then
    ./mvnw -B -q -o -DskipTests package
    ./mvnw -B -q -o -Pbench -DskipTests package
  fi
}

product_jar() { ls target/matrix-policy-gateway-*.jar | grep -v -e '-plain' | head -1; }

policy_server_key() { # jar key-file: the policy server's key, as an admin makes it (the jar's GeneratePolicyServerKey)
  "$JAVA" -cp "$1" -Dloader.main=dev.matrixpolicy.gateway.policyserver.GeneratePolicyServerKey \
    org.springframework.boot.loader.launch.PropertiesLauncher "$2" > /dev/null
}

image_jvm_flags() { sed -n 's/^ENV JAVA_TOOL_OPTIONS="\(.*\)"$/\1/p' Dockerfile; }   # the container image's JVM flags

container_jvm_flags() { # MiB: the image's JVM flags, the heap made explicit as in a container of that limit (MaxRAMPercentage of it)
  local percent; percent=$(image_jvm_flags | sed -n 's/.*-XX:MaxRAMPercentage=\([0-9]*\).*/\1/p')
  echo "$(image_jvm_flags | sed 's/ *-XX:MaxRAMPercentage=[0-9]*//') -Xmx$(($1 * percent / 100))m"
}

metric() { # prometheus-name label-filter: the sum of the samples of the gateway on $MANAGEMENT_PORT that match
  curl -s "http://127.0.0.1:$MANAGEMENT_PORT/actuator/prometheus" | awk -v name="$1" -v filter="$2" \
    'index($0, name) == 1 && index($0, filter) > 0 {sum += $NF} END {printf "%.6f", sum}'
}

# Only the servers still running: `jobs -p` never names a process that has already been reaped.
cleanup() { local running; running=$(jobs -p); [ -z "$running" ] || kill $running 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_for() { # pid log-file curl-arguments...: until the server answers; fails if it dies or takes 2 minutes
  local pid=$1 log=$2 deadline=$((SECONDS + 120)); shift 2
  until curl -sf -o /dev/null "$@"; do
    kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || { cat "$log" >&2; echo "not ready: $*" >&2; exit 1; }
    sleep 0.02
  done
}
