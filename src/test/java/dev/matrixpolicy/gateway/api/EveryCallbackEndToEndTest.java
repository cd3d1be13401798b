package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.support.CallbackRequests;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

/**
 * Every callback of every category over real HTTP, through the chain pass → decide → never of
 * application-e2e.yml: each answer shows the callback's own chain rule at work.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("e2e")
class EveryCallbackEndToEndTest {
    @LocalServerPort
    int port;

    GatewayClient gateway;

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "e2e-secret-token");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyCallbackAnswersByItsOwnChainRule(String path, String body, int status, String expected) {
        Answer answer = gateway.post("/v1/" + path, body);

        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).startsWith("application/json");
        assertThat(answer.json()).isEqualTo(GatewayClient.json(expected));
    }

    @Test
    void theTableAboveCoversEveryCallbackOfEveryCategory() {
        List<String> covered = CallbackRequests.everyCallback().map(arguments -> (String) arguments.get()[0]).toList();

        assertThat(covered).containsExactlyInAnyOrderElementsOf(Callbacks.ALL.stream().map(CallbackType::path).toList());
    }
}
