package dev.matrixpolicy.gateway.support;

import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The common ground of a test that runs the whole gateway ({@code @SpringBootTest} with random
 * ports, on the subclass with its profile): the policy port, the management port, and a client of
 * the policy API holding the profile's token.
 */
public abstract class GatewayEndToEnd {
    private final String token;

    @LocalServerPort
    protected int port;

    @LocalManagementPort
    protected int managementPort;

    protected GatewayClient gateway;

    /** @param token the shared token of the test's profile */
    protected GatewayEndToEnd(String token) {
        this.token = token;
    }

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, token);
    }
}
