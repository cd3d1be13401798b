package dev.matrixpolicy.gateway.api;

import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.Adapter;
import org.apache.coyote.Processor;
import org.apache.coyote.Request;
import org.apache.coyote.UpgradeProtocol;
import org.apache.coyote.UpgradeToken;
import org.apache.coyote.http11.upgrade.InternalHttpUpgradeHandler;
import org.apache.coyote.http11.upgrade.UpgradeProcessorInternal;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.SSLSupport;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers a connection that opens with HTTP/2's connection preface ({@code PRI * HTTP/2.0}, an h2c
 * client with prior knowledge) as any other request of an HTTP version other than 1.x is answered:
 * 505 with Matrix error JSON, then the connection is closed. Tomcat recognises the preface before it
 * parses a request and, with no HTTP/2 protocol on the connector, closed the connection unanswered.
 *
 * <p>Tomcat looks up the preface's handler as the {@code h2c} upgrade protocol, so this is registered
 * under that name; it accepts no {@code Upgrade: h2c} request, which stays the HTTP/1.1 request it is.
 */
final class Http2PrefaceAnswer implements UpgradeProtocol {
    /** The name Tomcat looks the preface's handler up by. */
    private static final String H2C = "h2c";

    private final byte[] answer;

    private Http2PrefaceAnswer(JsonMapper json) {
        byte[] body = json.writeValueAsBytes(MatrixErrors.forStatus(HttpStatus.HTTP_VERSION_NOT_SUPPORTED.value()).body());
        byte[] head = ("HTTP/1.1 505 \r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        answer = new byte[head.length + body.length];
        System.arraycopy(head, 0, answer, 0, head.length);
        System.arraycopy(body, 0, answer, head.length, body.length);
    }

    static void install(Connector connector, JsonMapper json) {
        connector.addUpgradeProtocol(new Http2PrefaceAnswer(json));
    }

    @Override
    public String getHttpUpgradeName(boolean isSslEnabled) {
        return H2C;
    }

    @Override
    public byte[] getAlpnIdentifier() {
        return null;
    }

    @Override
    public String getAlpnName() {
        return null; // not offered in TLS negotiation: there is no HTTP/2 here
    }

    /** The connection's handler once the preface is seen, as Tomcat's own HTTP/2 protocol makes it. */
    @Override
    public Processor getProcessor(SocketWrapperBase<?> socket, Adapter adapter) {
        return new UpgradeProcessorInternal(socket, new UpgradeToken(new Refusal(answer), null, null, H2C), null);
    }

    @Override
    public InternalHttpUpgradeHandler getInternalUpgradeHandler(SocketWrapperBase<?> socket, Adapter adapter, Request request) {
        return new Refusal(answer); // never asked: accept refuses every upgrade request
    }

    @Override
    public boolean accept(Request request) {
        return false;
    }

    /** Writes the 505 when the connection is first dispatched to it, and has it closed. */
    private static final class Refusal implements InternalHttpUpgradeHandler {
        private final byte[] answer;
        private SocketWrapperBase<?> socket;

        Refusal(byte[] answer) {
            this.answer = answer;
        }

        @Override
        public void setSocketWrapper(SocketWrapperBase<?> socket) {
            this.socket = socket;
        }

        @Override
        public SocketState upgradeDispatch(SocketEvent status) {
            if (status == SocketEvent.OPEN_READ || status == SocketEvent.OPEN_WRITE) {
                try {
                    socket.write(true, answer, 0, answer.length);
                    socket.flush(true);
                } catch (IOException gone) {
                    // the client left before its answer: there is no one left to tell
                }
            }
            return SocketState.CLOSED;
        }

        @Override
        public void init(WebConnection connection) {
        }

        @Override
        public void destroy() {
        }

        @Override
        public void timeoutAsync(long now) {
        }

        @Override
        public void setSslSupport(SSLSupport sslSupport) {
        }

        @Override
        public void pause() {
        }
    }
}
