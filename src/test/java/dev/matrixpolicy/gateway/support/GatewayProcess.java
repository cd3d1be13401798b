package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The packaged jar as its own process, started as a pod starts it and stopped with SIGTERM, for
 * the integration tests (failsafe runs them after {@code package}; the jar is the
 * {@code gateway.jar} system property). The JVM is the one running the tests: the JDK 25 of the
 * build's toolchain, with the container image's serial collector, a 256 MiB heap and C1 only, as the
 * Python suites start theirs ({@code gateway_process.TEST_JVM_OPTIONS}). It runs in its own folder,
 * so no stray application.yml is read, and logs to {@code gateway.log} there.
 */
public final class GatewayProcess implements AutoCloseable {
    private static final Duration STARTUP = Duration.ofMinutes(2);

    private final Process process;
    private final Path log;
    private final int apiPort;
    private final int managementPort;

    private GatewayProcess(Process process, Path log, int apiPort, int managementPort) {
        this.process = process;
        this.log = log;
        this.apiPort = apiPort;
        this.managementPort = managementPort;
    }

    /** Starts the gateway on free ports with its embedded configuration, and waits until it is ready. */
    public static GatewayProcess start(Path folder, String token) {
        return start(folder, token, List.of());
    }

    /**
     * Starts the gateway on free ports with {@code arguments} added to its command line (e.g.
     * {@code --spring.config.additional-location=...}), and waits until it is ready.
     */
    public static GatewayProcess start(Path folder, String token, List<String> arguments) {
        Path jar = Path.of(System.getProperty("gateway.jar", "target/matrix-policy-gateway-0.1.0-SNAPSHOT.jar"))
                .toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " does not exist: run ./mvnw package first");
        }
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs the tests"));
        int apiPort = Ports.unusedPort();
        int managementPort = Ports.unusedPort();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                "--server.port=" + apiPort, "--management.server.port=" + managementPort,
                "--policy-gateway.auth.token=" + token));
        command.addAll(arguments);
        Path log = folder.resolve("gateway.log");
        try {
            Process process = new ProcessBuilder(command).directory(folder.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            GatewayProcess gateway = new GatewayProcess(process, log, apiPort, managementPort);
            try {
                gateway.awaitReady();
            } catch (RuntimeException notReady) {
                gateway.close();
                throw notReady;
            }
            return gateway;
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    public int apiPort() {
        return apiPort;
    }

    public int managementPort() {
        return managementPort;
    }

    /** Every line the gateway wrote to stdout and stderr so far. */
    public List<String> logLines() {
        try {
            return Files.readAllLines(log);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    /** SIGTERM, as the kubelet sends it once the preStop hook is done. */
    public void terminate() {
        process.destroy();
    }

    /** The exit status, or empty if the process still runs after {@code timeout}. */
    public Optional<Integer> awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? Optional.of(process.exitValue()) : Optional.empty();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The last 40 lines the gateway wrote to stdout and stderr, for a failure message. */
    public String log() {
        try {
            List<String> lines = logLines();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (UncheckedIOException failed) {
            return "(no log: " + failed.getCause() + ")";
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    private void awaitReady() {
        Instant deadline = Instant.now().plus(STARTUP);
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            while (Instant.now().isBefore(deadline)) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the gateway exited with " + process.exitValue() + ":\n" + log());
                }
                if (isReady(http)) {
                    return;
                }
                pause(Duration.ofMillis(200));
            }
        }
        throw new IllegalStateException("the gateway was not ready within " + STARTUP + ":\n" + log());
    }

    private boolean isReady(HttpClient http) {
        HttpRequest readiness = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/readiness"))
                .timeout(Duration.ofSeconds(5)).build();
        try {
            HttpResponse<String> answer = http.send(readiness, HttpResponse.BodyHandlers.ofString());
            return answer.statusCode() == 200 && answer.body().contains("\"UP\"");
        } catch (IOException notListeningYet) {
            return false;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(interrupted);
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

}
