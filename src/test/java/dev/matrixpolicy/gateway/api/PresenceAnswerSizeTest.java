package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The size of {@code get_users_for_states}' answer to a batch of 256 KiB of states (the most our Synapse
 * module sends in one request) going to 40 receivers of {@code ALL}, written as the policy API writes it
 * ({@link PolicyAnswer}, then one byte array): the full form names each state once per receiver, the
 * compact form once. What writing each takes and allocates is {@code PresenceAnswerBenchmark}'s
 * (src/bench, docs/performance.md).
 */
class PresenceAnswerSizeTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int RECEIVERS = 40;
    private static final int BATCH_BYTES = 256 * 1024;

    @Test
    void theCompactAnswerToABatchForFortyReceiversIsAboutTheBatchsSizeWhereTheFullFormIsFortyTimesIt() {
        List<JsonNode> batch = new ArrayList<>();
        int batchBytes = 0;
        while (batchBytes + state(batch.size()).toString().length() + 1 <= BATCH_BYTES) {
            batchBytes += state(batch.size()).toString().length() + 1;
            batch.add(state(batch.size()));
        }
        Map<String, Set<JsonNode>> routes = new LinkedHashMap<>();
        IntStream.range(0, RECEIVERS).forEach(n -> routes.put("@support" + n + ":example.com", new LinkedHashSet<>(batch)));
        UsersForStates answer = new UsersForStates(routes);

        long full = JSON.writeValueAsBytes(PolicyAnswer.of(ResultTypes.USERS_FOR_STATES, answer, false).body()).length;
        long compact = JSON.writeValueAsBytes(PolicyAnswer.of(ResultTypes.USERS_FOR_STATES, answer, true).body()).length;

        assertThat(full).isGreaterThan((long) RECEIVERS * batchBytes);
        assertThat(compact).isBetween((long) batchBytes, batchBytes + 16L * 1024);
    }

    /** A state as Synapse's {@code UserPresenceState} sends it, without a status message: about 190 bytes. */
    private static ObjectNode state(int n) {
        return JSON.createObjectNode().put("user_id", "@user" + n + ":example.com").put("state", "online")
                .put("last_active_ts", 1_765_000_000_000L + n).put("last_federation_update_ts", 1_765_000_000_000L + n)
                .put("last_user_sync_ts", 1_765_000_000_000L + n).putNull("status_msg").put("currently_active", true);
    }
}
