package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

/** Local ports for tests. */
public final class Ports {
    /** Linux's default start of the ephemeral range, where /proc cannot say. */
    private static final int EPHEMERAL_LOW = 32768;
    /** The Python suites take the 12,000 ports just below the ephemeral range (gateway_process.free_port); these the next 12,000. */
    private static final int BELOW_PYTHON = 12_000;
    private static final int SIZE = 12_000;
    private static final int FIRST = Math.max(1024, ephemeralLow() - BELOW_PYTHON - SIZE);
    private static int next = new SecureRandom().nextInt(SIZE);
    private static int handedOut;

    private Ports() {
    }

    /**
     * A port nothing listens on, for a server a test starts later (a Redis, a gateway process) or for
     * a "backend that is down", whose connections are refused; never the same one twice in a run.
     *
     * <p>Not one the kernel picks (bind to port 0): those come from its ephemeral range, which is also
     * where outgoing connections take their source ports from, and the Python suites that run alongside
     * open many. Between the probe and a server's own bind, seconds later for a JVM, such a connection
     * could take the port. So the ports come from below that range, under the Python suites' own slice
     * of it, one after another from a place picked at random, so that two builds on one machine (a
     * developer's and a worktree's) do not hand out the same ports in the same order.
     */
    public static synchronized int unusedPort() {
        while (handedOut < SIZE) {
            int port = FIRST + next;
            next = (next + 1) % SIZE;
            handedOut++;
            try (ServerSocket probe = new ServerSocket(port)) { // every address: a server may listen on all
                return port;
            } catch (IOException taken) {
                // something listens there, or an earlier run's connection lingers
            }
        }
        throw new IllegalStateException("this run has used every port from " + FIRST + " to " + (FIRST + SIZE - 1));
    }

    private static int ephemeralLow() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException unknown) {
            return EPHEMERAL_LOW;
        }
    }
}
