package dev.matrixpolicy.gateway.api;

import org.apache.catalina.Lifecycle;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ActionCode;
import org.apache.coyote.Adapter;
import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.Request;
import org.apache.coyote.Response;
import org.apache.tomcat.util.net.SocketEvent;

/**
 * Sends a malformed request in asterisk form ({@code OPTIONS * HTTP/1.1} with a broken header) the
 * way of every other malformed request: through the pipeline, whose {@link JsonErrorReportValve}
 * answers 400 with Matrix error JSON. Tomcat answers {@code *} itself before any valve, so such a
 * request got a 400 with an empty body. A well-formed {@code OPTIONS *} is answered here, a 200 with
 * {@link AllowedMethods#ANY_PATH} and no body, as HTTP describes it: Tomcat's answer lists methods
 * whatever the server's paths take, {@code TRACE} among them since the connectors let it through.
 */
final class AsteriskFormAdapter implements Adapter {
    private final Adapter container;

    private AsteriskFormAdapter(Adapter container) {
        this.container = container;
    }

    /** Wraps the connector's adapter once the connector has made it (at its init). */
    static void install(Connector connector) {
        connector.addLifecycleListener(event -> {
            if (Lifecycle.AFTER_INIT_EVENT.equals(event.getType())) {
                ProtocolHandler protocol = connector.getProtocolHandler();
                protocol.setAdapter(new AsteriskFormAdapter(protocol.getAdapter()));
            }
        });
    }

    @Override
    public void service(Request request, Response response) throws Exception {
        if (request.requestURI().equals("*") && response.getStatus() < 400 && request.method().equals("OPTIONS")) {
            response.setStatus(200);
            response.setHeader("Allow", AllowedMethods.ANY_PATH);
            response.setContentLength(0);
            // Sent now: the processor reads any body to its end before it would send it, and a broken
            // chunked body there ends the connection with the answer unsent.
            response.action(ActionCode.CLIENT_FLUSH, null);
            return;
        }
        if (response.getStatus() >= 400 && request.requestURI().equals("*")) {
            // the processor found it malformed already; "/" is routed to no handler, only to the error report
            request.requestURI().setString("/");
        }
        container.service(request, response);
    }

    @Override
    public boolean prepare(Request request, Response response) throws Exception {
        return container.prepare(request, response);
    }

    @Override
    public boolean asyncDispatch(Request request, Response response, SocketEvent status) throws Exception {
        return container.asyncDispatch(request, response, status);
    }

    @Override
    public void log(Request request, Response response, long time) {
        container.log(request, response, time);
    }

    @Override
    public void checkRecycled(Request request, Response response) {
        container.checkRecycled(request, response);
    }

    @Override
    public String getDomain() {
        return container.getDomain();
    }
}
