package dev.matrixpolicy.gateway.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Arrays;
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
     *
     * <p>Only {@code 127.0.0.1} and {@code ::1} count, not the rest of {@code 127.0.0.0/8}: a
     * service mesh's sidecar (Istio's, from {@code 127.0.0.6}) hands on connections from other pods
     * from a loopback address of its own, and those callers are not this machine's.
     */
    static boolean isLoopback(ServletRequest request) {
        return of(request).filter(PeerAddressValve::isLocalHost).isPresent();
    }

    private static boolean isLocalHost(String address) {
        try {
            InetAddress peer = InetAddress.ofLiteral(address);
            return peer.isLoopbackAddress() && Arrays.equals(peer.getAddress(), peer.getAddress().length == 4 ? IPV4_LOCALHOST : IPV6_LOCALHOST);
        } catch (IllegalArgumentException notALiteral) {
            return false;
        }
    }

    private static final byte[] IPV4_LOCALHOST = {127, 0, 0, 1};
    private static final byte[] IPV6_LOCALHOST = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
}
