package dev.matrixpolicy.gateway.server;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ProtocolHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.context.SmartLifecycle;

/**
 * Drains the policy API's keep-alive connections at shutdown, before Spring Boot's graceful
 * shutdown pauses Tomcat's connector.
 *
 * <p>A paused connector closes an idle keep-alive connection without answering the request that
 * arrives on it, and the client cannot tell whether that request was processed: Synapse does not
 * retry the POST, and the user's invite or message fails. Tomcat has its own graceful stop for
 * this (a Service's {@code gracefulStopAwaitMillis}), but Boot stops the connectors without it.
 * The drain runs those same steps first: it closes the listening socket, so new connections are
 * refused and every answer from then on says {@code Connection: close} and closes its connection;
 * then it waits until the clients have used or closed the connections they hold, at most
 * {@code spring.lifecycle.timeout-per-shutdown-phase}. Only then does Boot's graceful shutdown
 * pause the connector and wait for the requests still in flight.
 */
final class ConnectionDrain implements SmartLifecycle {
    /** Just before Boot's graceful shutdown; the modules, which answer the requests, close after both. */
    static final int PHASE = WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + 1;
    private static final Logger log = LoggerFactory.getLogger(ConnectionDrain.class);

    private final ApplicationContext context;
    private final Duration limit;
    private volatile boolean running;

    ConnectionDrain(ApplicationContext context, Duration limit) {
        this.context = context;
        this.limit = limit;
    }

    @Override
    public void start() {
        running = true;
    }

    /**
     * Synchronous on purpose: the lifecycle processor's phase timeout does not cut a synchronous
     * stop short, so the drain's own limit holds even when it equals that timeout.
     */
    @Override
    public void stop() {
        running = false;
        List<ProtocolHandler> protocols = protocols();
        if (protocols.isEmpty()) {
            return;
        }
        log.info("Draining connections: new ones are refused and every answer closes its connection;"
                + " waiting up to {} ms for the clients", limit.toMillis());
        long started = System.nanoTime();
        protocols.forEach(ProtocolHandler::closeServerSocketGraceful);
        long left = limit.toMillis();
        for (ProtocolHandler protocol : protocols) {
            left = protocol.awaitConnectionsClose(left);
        }
        long took = Duration.ofNanos(System.nanoTime() - started).toMillis();
        if (left > 0) {
            log.info("Drained every connection in {} ms", took);
        } else {
            log.info("Drain over after {} ms with connections still open; they are closed now", took);
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    /**
     * Not on a pause (a test framework pausing a cached context, say): the web server keeps
     * running then, as Boot's own web server lifecycles are not pauseable either, and a closed
     * listening socket would not come back on resume.
     */
    @Override
    public boolean isPauseable() {
        return false;
    }

    private List<ProtocolHandler> protocols() {
        if (!(context instanceof WebServerApplicationContext web && web.getWebServer() instanceof TomcatWebServer tomcat)) {
            return List.of();
        }
        return Arrays.stream(tomcat.getTomcat().getService().findConnectors()).map(Connector::getProtocolHandler).toList();
    }
}
