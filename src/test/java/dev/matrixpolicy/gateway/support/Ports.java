package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Local ports for tests. */
public final class Ports {
    private Ports() {
    }

    /**
     * A port nothing listens on: the system picks a free one, which is closed again at once, so a
     * connection to it is refused (a "backend that is down").
     */
    public static int unusedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }
}
