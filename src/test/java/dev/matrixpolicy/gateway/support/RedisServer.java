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
import java.util.List;
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
 * {@link DebianPackages}; where that fails the test class fails, it never skips.
 */
public final class RedisServer implements BeforeAllCallback, AfterAllCallback {
    private static final Path REDIS_SERVER = Path.of("/usr/bin/redis-server");
    private static final Path INSTALL_LOG = Path.of("target", "redis-install.log");
    private static final Duration STARTUP = Duration.ofSeconds(10);

    private int port;
    private Path directory;
    private Process process;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        DebianPackages.require("The shared-state tests", List.of(REDIS_SERVER), "redis-server", INSTALL_LOG);
        port = Ports.unusedPort();
        directory = Files.createTempDirectory("redis");
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        stop();
        if (directory != null) {
            FileSystemUtils.deleteRecursively(directory);
        }
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
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
            process = new ProcessBuilder(REDIS_SERVER.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", directory.toString(), "--daemonize", "no")
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

    /** Stops the server without ending it (SIGSTOP), as a hung host: connections stay open, nothing answers. */
    public synchronized void freeze() {
        signal("-STOP");
    }

    /** Lets a {@linkplain #freeze frozen} server run again (SIGCONT). */
    public synchronized void thaw() {
        signal("-CONT");
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
            }
        } catch (IOException cannotSignal) {
            throw new UncheckedIOException(cannotSignal);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(interrupted);
        }
    }

    private boolean answersPing() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
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
