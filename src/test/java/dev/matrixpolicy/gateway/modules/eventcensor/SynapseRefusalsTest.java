package dev.matrixpolicy.gateway.modules.eventcensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Why Synapse 1.157 would refuse each replacement of {@link EventCensorEndToEndTest}, and with which status. */
class SynapseRefusalsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.modules.eventcensor.EventCensorEndToEndTest#replacementsSynapseRefuses")
    void eachReplacementIsRefusedForItsReasonWithTheStatusTheUserWouldSee(String name, String[] request, int status, String problem) {
        JsonNode body = JSON.readTree(request[0]);
        List<ClientEvent> state = body.get("state_events").valueStream().map(event -> new ClientEvent((ObjectNode) event)).toList();

        assertThat(SynapseRefusals.of(new ClientEvent((ObjectNode) body.get("event")), (ObjectNode) JSON.readTree(request[1]), state, "example.com"))
                .hasValueSatisfying(refusal -> {
                    assertThat(refusal.status()).isEqualTo(status);
                    assertThat(refusal.message()).contains(problem).endsWith("Synapse would end the user's request in a " + status);
                });
    }
}
