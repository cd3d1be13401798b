package dev.matrixpolicy.gateway.callbacks.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway serves exactly the callbacks of Synapse v1.157's module docs, each in its category. The list is
 * written out once, with where it was read from, in {@code synapse-v1.157-callbacks.txt}; the Synapse module's
 * {@code test_synapse_callback_list.py} compares its own list with the same file.
 */
class SynapseCallbackListTest {

    @Test
    void theGatewayServesEveryCallbackOfSynapse1157InItsCategoryAndNoOther() throws IOException {
        List<String> written = synapseCallbacks();

        assertThat(written).hasSize(47).doesNotHaveDuplicates();
        assertThat(Callbacks.ALL.stream().map(type -> type.category().wireName() + " " + type.name()).toList())
                .containsExactlyInAnyOrderElementsOf(written);
    }

    /** {@code "<category> <callback>"} lines, comments left out. */
    private static List<String> synapseCallbacks() throws IOException {
        try (InputStream list = SynapseCallbackListTest.class.getResourceAsStream("/synapse-v1.157-callbacks.txt")) {
            assertThat(list).as("synapse-v1.157-callbacks.txt on the test class path").isNotNull();
            return new String(list.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(line -> !line.isBlank() && !line.startsWith("#"))
                    .toList();
        }
    }
}
