package dev.matrixpolicy.gateway.support;

import jakarta.servlet.http.HttpServlet;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * An embedded Tomcat without Spring, on a loopback port of its own, serving one servlet at {@code /}:
 * for tests of what the gateway adds to Tomcat itself (a valve, a protocol handler). Tomcat's own log,
 * its start and stop lines, is kept off the console while it runs.
 */
public final class LoopbackTomcat implements AutoCloseable {
    /** Held here: JUL keeps loggers weakly, and a level set on one collected would be lost. */
    private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

    private final Tomcat tomcat = new Tomcat();
    private final Level tomcatLevel = TOMCAT_LOG.getLevel();
    private final Connector connector;

    private LoopbackTomcat(Connector connector) {
        this.connector = connector;
    }

    /**
     * @param base      a directory for Tomcat's files
     * @param connector the connector to serve on, its port and address set here
     * @param servlet   what answers every path
     * @param context   anything more the context needs (a valve), before it starts
     */
    public static LoopbackTomcat start(Path base, Connector connector, HttpServlet servlet, Consumer<Context> context)
            throws Exception {
        LoopbackTomcat started = new LoopbackTomcat(connector);
        TOMCAT_LOG.setLevel(Level.OFF);
        Tomcat tomcat = started.tomcat;
        tomcat.setBaseDir(Files.createDirectories(base.resolve("tomcat")).toString());
        connector.setPort(0);
        connector.setProperty("address", InetAddress.getLoopbackAddress().getHostAddress());
        tomcat.setConnector(connector);
        Context served = tomcat.addContext("", base.toString());
        context.accept(served);
        Tomcat.addServlet(served, "servlet", servlet);
        served.addServletMappingDecoded("/", "servlet");
        tomcat.start();
        return started;
    }

    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws LifecycleException {
        try {
            tomcat.stop();
            tomcat.destroy();
        } finally {
            TOMCAT_LOG.setLevel(tomcatLevel);
        }
    }
}
