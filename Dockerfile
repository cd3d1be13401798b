# syntax=docker/dockerfile:1
# matrix-policy-gateway, as a container image:
#   docker build -t matrix-policy-gateway:<project version> .    (the tag the Helm chart deploys)
# Without Docker, Jib builds the same image: ./mvnw compile jib:build -Dimage=... (docs/kubernetes.md).

ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-25
ARG RUNTIME_IMAGE=eclipse-temurin:25-jre

# --- Build: package with Maven on a JDK 25; the tests run in CI, not here. ---
FROM ${BUILD_IMAGE} AS build
WORKDIR /build
COPY pom.xml application.yml ./
COPY src ./src
# Then split the Boot jar into layers: the dependencies change less often than the application.
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -DskipTests package \
 && cp target/matrix-policy-gateway-*.jar application.jar \
 && java -Djarmode=tools -jar application.jar extract --layers --destination extracted

# --- Run: a JRE 25 and a numeric non-root user; only /tmp is written (Tomcat's work files). ---
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /build/extracted/dependencies/ ./
COPY --from=build /build/extracted/spring-boot-loader/ ./
COPY --from=build /build/extracted/snapshot-dependencies/ ./
COPY --from=build /build/extracted/application/ ./
# The product's default JVM flags, as the pom's gateway.jvm.flags (docs/kubernetes.md, Memory and CPU): the
# Serial collector with a fixed 64 MiB young generation, heap as a share of the container's memory
# limit, exit (and be restarted) on OutOfMemoryError. The Helm chart replaces this variable with its
# jvm.* values.
ENV JAVA_TOOL_OPTIONS="-XX:+UseSerialGC -Xmn64m -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"
# The JDK's AOT cache (JEP 483), from a training run (bin/aot-cache: the gateway starts on its
# embedded default configuration, answers a few requests and stops; the JVM records the classes it
# loaded and linked). Each container start then maps them instead: ready in about 2.4 s instead of
# 6 to 7 s on 2 cores, on the default configuration (docs/performance.md). Built here, on the
# runtime JRE and with the flags above, because a cache only serves the JVM build that wrote it; a
# JVM that cannot use it (another build, or ZGC) logs why and starts the slow way.
COPY bin/aot-cache /tmp/aot-cache
RUN /tmp/aot-cache application.jar application.aot && rm -rf /tmp/aot-cache /tmp/tomcat.*
# 8090: the policy API; 8091: health probes, /actuator/prometheus, /actuator/chains.
EXPOSE 8090 8091
USER 10001:10001
ENTRYPOINT ["java", "-XX:AOTCache=application.aot", "-jar", "application.jar"]
