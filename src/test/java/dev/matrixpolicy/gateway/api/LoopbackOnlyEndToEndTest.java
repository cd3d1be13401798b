package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.RawHttp;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.valves.RemoteIpValve;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;

/**
 * Without a token (the embedded application.yml has none), the policy API answers loopback callers
 * only, judged by the connection's peer address and never by a forwarded header: on Kubernetes,
 * where Spring Boot would trust {@code X-Forwarded-For} from any private-range address, and even
 * where an operator switched forwarded headers on. Tomcat is told to trust every address as a
 * proxy, as it trusts a pod's 10.x address by default: this machine's own addresses stand in for
 * the pods.
 */
class LoopbackOnlyEndToEndTest {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("answering loopback callers only", "API access refused");

    private static final String CALLBACKS = "GET /v1/callbacks HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";

    abstract static class LoopbackRule {
        @LocalServerPort
        int port;

        @Test
        void callerFromAnotherAddressIsRefusedWhenItsForwardedForHeaderClaimsLoopback() {
            Optional<InetAddress> otherAddress = nonLoopbackAddress();
            assumeTrue(otherAddress.isPresent(), "this machine has a network address other than loopback");

            RawHttp.Response answer = RawHttp.exchange(otherAddress.get(), port, CALLBACKS + "X-Forwarded-For: 127.0.0.1\r\n\r\n");

            assertThat(answer.status()).as(answer.body()).isEqualTo(403);
        }

        @Test
        void loopbackCallerNamingTheGatewayByAnotherNameIsRefusedAsAPageRebindingItsNameWouldBe() {
            RawHttp.Response rebound = RawHttp.exchange(port,
                    "GET /v1/callbacks HTTP/1.1\r\nHost: rebind.evil.example:" + port + "\r\nConnection: close\r\n\r\n");

            assertThat(rebound.status()).as(rebound.body()).isEqualTo(403);
            assertThat(rebound.body()).contains("must address the gateway as localhost or by IP address");
            for (String host : new String[] {"localhost", "127.0.0.1", "[::1]", "gateway.localhost"}) {
                RawHttp.Response answer = RawHttp.exchange(port,
                        "GET /v1/callbacks HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n");
                assertThat(answer.status()).as(host).isEqualTo(200);
            }
        }

        @Test
        void aPostABrowserSentFromAnotherSiteIsRefused() {
            String invite = "{\"inviter\": \"@a:example.com\", \"invitee\": \"@b:example.com\", \"room_id\": \"!r:example.com\"}";
            String post = "POST /v1/spam_checker/user_may_invite HTTP/1.1\r\nHost: localhost:" + port + "\r\nConnection: close\r\n"
                    + "Content-Type: text/plain\r\nContent-Length: " + invite.length() + "\r\n";

            RawHttp.Response crossSite = RawHttp.exchange(port, post + "Origin: https://evil.example\r\n\r\n" + invite);
            RawHttp.Response fetchMetadata = RawHttp.exchange(port, post + "Sec-Fetch-Site: cross-site\r\n\r\n" + invite);
            RawHttp.Response sameOrigin = RawHttp.exchange(port, post + "Origin: http://localhost:" + port + "\r\n\r\n" + invite);

            assertThat(crossSite.status()).as(crossSite.body()).isEqualTo(403);
            assertThat(crossSite.body()).contains("from a page of another site");
            assertThat(fetchMetadata.status()).isEqualTo(403);
            assertThat(sameOrigin.status()).as(sameOrigin.body()).isEqualTo(200);
        }

        @Test
        void loopbackCallerIsAnsweredWhateverAddressItsForwardedForHeaderClaims() {
            RawHttp.Response answer = RawHttp.exchange(port, CALLBACKS + "X-Forwarded-For: 10.1.2.3\r\n\r\n");

            assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        }
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
            properties = {"spring.main.cloud-platform=kubernetes", "server.tomcat.remoteip.internal-proxies=.*"})
    class OnKubernetes extends LoopbackRule {
        @Autowired
        ServletWebServerApplicationContext context;

        /** The embedded application.yml says so (server.forward-headers-strategy: none); Spring Boot would otherwise here. */
        @Test
        void forwardedHeadersAreNotHonoured() {
            Tomcat tomcat = ((TomcatWebServer) context.getWebServer()).getTomcat();

            assertThat(tomcat.getEngine().getPipeline().getValves()).noneMatch(RemoteIpValve.class::isInstance);
        }
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
            properties = {"server.forward-headers-strategy=native", "server.tomcat.remoteip.internal-proxies=.*"})
    class WithForwardedHeadersSwitchedOn extends LoopbackRule {
    }

    /** An IPv4 address of this machine's own that is not loopback: connecting to it makes it the peer address too. */
    static Optional<InetAddress> nonLoopbackAddress() {
        try {
            return NetworkInterface.networkInterfaces()
                    .filter(LoopbackOnlyEndToEndTest::isUp)
                    .flatMap(NetworkInterface::inetAddresses)
                    .filter(address -> address instanceof Inet4Address && !address.isLoopbackAddress() && !address.isLinkLocalAddress())
                    .findFirst();
        } catch (SocketException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
    }

    private static boolean isUp(NetworkInterface network) {
        try {
            return network.isUp() && !network.isLoopback();
        } catch (SocketException unreadable) {
            return false;
        }
    }
}
