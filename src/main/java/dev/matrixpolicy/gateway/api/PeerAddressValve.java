package dev.matrixpolicy.gateway.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Optional;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Records the address at the other end of each request's connection, which no header can change,
 * as a request attribute. {@code getRemoteAddr()} is not that address wherever forwarded headers
 * are honoured: Tomcat's {@code RemoteIpValve}, which Spring Boot installs on a detected cloud
 * platform or with {@code server.forward-headers-strategy: native}, rewrites it from
 * {@code X-Forwarded-For}, a header any caller writes.
 */
final class PeerAddressValve extends ValveBase {
    static final String ATTRIBUTE = PeerAddressValve.class.getName() + ".peerAddress";

    PeerAddressValve() {
        super(true);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        request.setAttribute(ATTRIBUTE, request.getPeerAddr());
        getNext().invoke(request, response);
    }

    /** The connection's peer address, if this valve saw the request. */
    static Optional<String> of(ServletRequest request) {
        return request.getAttribute(ATTRIBUTE) instanceof String address ? Optional.of(address) : Optional.empty();
    }

    /**
     * Whether the connection comes from this machine: the rule of every endpoint that, without a
     * token, answers loopback callers only. A request this valve did not see is not.
     */
    static boolean isLoopback(ServletRequest request) {
        return of(request).filter(PeerAddressValve::isLoopbackLiteral).isPresent();
    }

    private static boolean isLoopbackLiteral(String address) {
        try {
            return InetAddress.ofLiteral(address).isLoopbackAddress();
        } catch (IllegalArgumentException notALiteral) {
            return false;
        }
    }
}
