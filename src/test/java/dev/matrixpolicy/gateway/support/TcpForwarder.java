package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One address in front of a server that can change, as a managed Redis's primary endpoint (a DNS
 * name) moves to the new primary after a failover: a loopback port that forwards each new connection
 * to the current {@link #target}, while connections made before keep going where they went.
 */
public final class TcpForwarder implements AutoCloseable {
    private final ServerSocket listening;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private volatile int target;

    public TcpForwarder(int target) {
        this.target = target;
        try {
            this.listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException cannotListen) {
            throw new UncheckedIOException(cannotListen);
        }
        threads.submit(this::accept);
    }

    /** {@code redis://127.0.0.1:<port>} of this address. */
    public String redisUrl() {
        return "redis://127.0.0.1:" + listening.getLocalPort();
    }

    /** Where connections made from now on go. */
    public void target(int port) {
        this.target = port;
    }

    private void accept() {
        while (!listening.isClosed()) {
            try {
                Socket client = listening.accept();
                try {
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                    threads.submit(() -> pipe(client, server));
                    threads.submit(() -> pipe(server, client));
                } catch (IOException refused) {
                    client.close(); // as the target would have refused it
                }
            } catch (IOException closed) {
                // the loop ends
            }
        }
    }

    private static void pipe(Socket from, Socket to) {
        try (from; to; InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException closed) {
            // either side closed: both are closed by the try
        }
    }

    @Override
    public void close() {
        try {
            listening.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        threads.shutdownNow();
    }
}
