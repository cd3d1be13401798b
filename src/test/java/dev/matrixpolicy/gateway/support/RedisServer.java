package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.util.FileSystemUtils;

/**
 * A real {@code redis-server} (Debian's package) for a test class: register with
 * {@code @RegisterExtension static}. Started on a free loopback port, with no persistence, in a
 * temporary directory; {@link #stop()} and {@link #start()} restart it on the same port, empty, as a
 * crashed and restarted Redis would come back. A machine without it gets it from
 * {@link DebianPackages}; where that fails the test class fails, it never skips. {@link #tls} makes
 * one that speaks TLS only, with certificates made for the run.
 */
public final class RedisServer implements BeforeAllCallback, AfterAllCallback {
    private static final Path REDIS_SERVER = Path.of("/usr/bin/redis-server");
    /** Debian's redis-tools, which redis-server depends on. */
    private static final Path REDIS_CLI = Path.of("/usr/bin/redis-cli");
    private static final Path INSTALL_LOG = Path.of("target", "redis-install.log");
    private static final Duration STARTUP = Duration.ofSeconds(10);

    /** What the server certificate names; null for a server without TLS. */
    private final List<String> serverNames;
    private final boolean clientCertificates;
    private int port;
    private Path directory;
    private Process process;
    private TestCertificates certificates;

    /** A server without TLS. */
    public RedisServer() {
        this(null, false);
    }

    private RedisServer(List<String> serverNames, boolean clientCertificates) {
        this.serverNames = serverNames;
        this.clientCertificates = clientCertificates;
    }

    /**
     * A server that speaks TLS only ({@code --port 0}), with a certificate naming {@code serverNames}
     * (such as {@code IP:127.0.0.1}) from a CA of its own ({@link #certificates()}).
     *
     * @param clientCertificates whether it refuses a client without a certificate from that CA
     */
    public static RedisServer tls(boolean clientCertificates, String... serverNames) {
        return new RedisServer(List.of(serverNames), clientCertificates);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        DebianPackages.require("The shared-state tests", List.of(REDIS_SERVER, REDIS_CLI), "redis-server", INSTALL_LOG);
        port = Ports.unusedPort();
        directory = Files.createTempDirectory("redis");
        if (serverNames != null) {
            certificates = TestCertificates.make(Files.createDirectory(directory.resolve("tls")),
                    serverNames.toArray(String[]::new));
        }
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        stop();
        if (directory != null) {
            FileSystemUtils.deleteRecursively(directory);
        }
    }

    /** {@code redis://127.0.0.1:<port>}, or {@code rediss://} for a {@linkplain #tls TLS} server. */
    public String url() {
        return (certificates == null ? "redis" : "rediss") + "://127.0.0.1:" + port;
    }

    /** The CA and certificates of a {@linkplain #tls TLS} server. */
    public TestCertificates certificates() {
        return Objects.requireNonNull(certificates, "not a TLS server");
    }

    public int port() {
        return port;
    }

    /** Starts the server on its port, empty, and waits until it answers {@code PING}. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            // A primary sends a replica its data at once, not after the 5 s it otherwise waits for more
            // replicas to share one transfer: a failover test's replica had nothing to read until then.
            List<String> command = new ArrayList<>(List.of(REDIS_SERVER.toString(), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", directory.toString(), "--daemonize", "no",
                    "--repl-diskless-sync-delay", "0"));
            if (certificates == null) {
                command.addAll(List.of("--port", Integer.toString(port)));
            } else {
                command.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port),
                        "--tls-cert-file", certificates.serverCertificate().toString(),
                        "--tls-key-file", certificates.serverKey().toString(),
                        "--tls-ca-cert-file", certificates.caFile().toString(),
                        "--tls-auth-clients", clientCertificates ? "yes" : "no"));
            }
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(directory.resolve("redis.log").toFile()))
                    .start();
        } catch (IOException cannotStart) {
            throw new UncheckedIOException(cannotStart);
        }
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (!answersPing()) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IllegalStateException("redis-server did not start on port " + port + "; see " + directory.resolve("redis.log"));
            }
            pause();
        }
    }

    /** Stops the server, as a crash would: what it held is gone. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server on port " + port + " did not stop");
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(interrupted);
        }
        process = null;
    }

    /**
     * Serves {@code next}'s server certificate and refuses a client without a certificate from
     * {@code next}'s authority, from the next handshake on ({@code CONFIG SET}, as an operator rotating
     * a running Redis's certificates): established connections keep their session.
     */
    public synchronized void rotateTo(TestCertificates next) {
        cli(certificates, "CONFIG", "SET", "tls-cert-file", next.serverCertificate().toString(),
                "tls-key-file", next.serverKey().toString(), "tls-ca-cert-file", next.caFile().toString());
        certificates = next;
    }

    /** Closes every client's connection ({@code CLIENT KILL}), as a network blip would: clients reconnect. */
    public synchronized void dropClients() {
        cli(certificates, "CLIENT", "KILL", "TYPE", "normal");
    }

    /** Runs {@code redis-cli} over TLS with the client certificate of {@code as}. */
    private void cli(TestCertificates as, String... arguments) {
        List<String> command = new ArrayList<>(List.of(REDIS_CLI.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "--tls", "--cacert", as.caFile().toString(), "--cert", as.clientCertificate().toString(),
                "--key", as.clientKey().toString()));
        command.addAll(List.of(arguments));
        String said = Commands.run(null, command);
        if (said.startsWith("ERR") || said.contains("(error)")) { // redis-cli ends with 0 on a refused command
            throw new IllegalStateException("redis-cli " + String.join(" ", arguments) + " failed: " + said);
        }
    }

    /** Stops the server without ending it (SIGSTOP), as a hung host: connections stay open, nothing answers. */
    public synchronized void freeze() {
        signal("-STOP");
    }

    /** Lets a {@linkplain #freeze frozen} server run again (SIGCONT). */
    public synchronized void thaw() {
        signal("-CONT");
    }

    private void signal(String signal) {
        Commands.run("kill", signal, Long.toString(process.pid()));
    }

    /** Whether it answers {@code PING}; for a TLS server, whether it accepts connections (it listens once ready). */
    private boolean answersPing() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            if (certificates != null) {
                return true;
            }
            socket.setSoTimeout(500);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = in.readNBytes(7);
            return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException notYet) {
            return false;
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(interrupted);
        }
    }
}
