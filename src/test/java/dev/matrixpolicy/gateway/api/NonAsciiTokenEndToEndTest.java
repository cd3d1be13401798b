package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.RawHttp;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/**
 * Tokens that are not ASCII, sent as UTF-8 (as our Synapse module and curl send them): the container
 * reads header bytes one character a byte, and the gateway compares what the client wrote.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {"management.server.port=0",
    "policy-gateway.auth.token=sécret-tökén", "policy-gateway.admin.token=ädmin-tökén"})
@ActiveProfiles("e2e")
class NonAsciiTokenEndToEndTest {
    /** The WARN line of each request sent here without the token, kept off the console. */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of(BearerTokenFilter.class, Level.DEBUG);

    private static final String INVITE = "{\"inviter\": \"@a:example.com\", \"invitee\": \"@b:example.com\", \"room_id\": \"!r:example.com\"}";

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    /** A request whose head is sent as UTF-8 bytes, as RawHttp sends each character as one byte. */
    private static String utf8(String request) {
        return new String(request.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    private RawHttp.Response invite(String token) {
        return RawHttp.exchange(port, utf8("POST /v1/spam_checker/user_may_invite HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: "
                + INVITE.length() + "\r\nConnection: close\r\n\r\n" + INVITE));
    }

    @Test
    void theHomeserversTokenMatchesAsTheClientWroteIt() {
        assertThat(invite("sécret-tökén").status()).as("past the token check: the chain's answer").isNotEqualTo(401);
        assertThat(invite("secret-token").status()).isEqualTo(401);
    }

    @Test
    void theAdminTokenMatchesAsABearerTokenAndAsABasicPassword() {
        String basic = Base64.getEncoder().encodeToString("admin:ädmin-tökén".getBytes(StandardCharsets.UTF_8));
        for (String authorization : new String[] {"Bearer ädmin-tökén", "Basic " + basic}) {
            RawHttp.Response answer = RawHttp.exchange(managementPort, utf8("GET /actuator/decisions HTTP/1.1\r\nHost: localhost\r\n"
                    + "Authorization: " + authorization + "\r\nConnection: close\r\n\r\n"));
            assertThat(answer.status()).as(authorization).isEqualTo(200);
        }
    }
}
