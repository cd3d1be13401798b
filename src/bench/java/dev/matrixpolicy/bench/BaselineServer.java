package dev.matrixpolicy.bench;

import dev.matrixpolicy.gateway.server.CarrierThreads;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * The benchmark's baseline: the gateway's server stack with none of its work. The same embedded
 * Tomcat, HTTP/1.1 keep-alive with the same idle timeout, requests on virtual threads with as many
 * carrier threads as the gateway gives them ({@link CarrierThreads}), and one servlet that answers
 * {@code 200 {}} to any POST without parsing the body. Its throughput is the practical limit of
 * this machine, so the gateway's figures are reported as ratios to it.
 *
 * <p>Usage: {@code java -cp ... dev.matrixpolicy.bench.BaselineServer <port>}
 */
public final class BaselineServer {
    private static final byte[] EMPTY_OBJECT = "{}".getBytes(StandardCharsets.UTF_8);

    private BaselineServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8095;
        CarrierThreads.apply();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("baseline-tomcat").toString());
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(port);
        connector.setProperty("address", "127.0.0.1");
        connector.setProperty("useVirtualThreads", "true");
        connector.setProperty("keepAliveTimeout", "180000");
        connector.setProperty("maxKeepAliveRequests", "-1");
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "answer", new AnswerEverything());
        context.addServletMappingDecoded("/*", "answer");
        tomcat.start();
        System.out.println("baseline listening on 127.0.0.1:" + port);
        tomcat.getServer().await();
    }

    private static final class AnswerEverything extends HttpServlet {
        @Override
        protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setStatus(200);
            response.setContentType("application/json");
            response.setContentLength(EMPTY_OBJECT.length);
            response.getOutputStream().write(EMPTY_OBJECT);
        }
    }
}
