package dev.matrixpolicy.gateway.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;

/**
 * Closes the connection of a request answered 408 as soon as the answer is out, without reading what
 * is left of its body. Tomcat reads the rest of an unread body before it closes a connection (up to
 * {@code maxSwallowSize}, 2 MiB), each read allowed {@code server.tomcat.connection-timeout}: a client
 * refused for dripping its body past {@link RequestBodyReader#BODY_DEADLINE} could go on dripping and
 * hold its connection for days after its answer. A 408 says the server will wait no longer (RFC 9110).
 */
final class RequestTimeoutValve extends ValveBase {
    RequestTimeoutValve() {
        super(true);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        getNext().invoke(request, response);
        if (response.getStatus() == HttpServletResponse.SC_REQUEST_TIMEOUT) {
            request.getCoyoteRequest().action(ActionCode.DISABLE_SWALLOW_INPUT, null);
        }
    }
}
