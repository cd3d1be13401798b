package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code get_users_for_states}' answer to a batch of 256 KiB of presence states (the most our Synapse
 * module sends in one request) going to {@code receivers} receivers of {@code ALL}, written as the
 * policy API writes it ({@link PolicyAnswer}, then one byte array), in the full form, which names each
 * state once per receiver, and in the compact form, which names it once. Run with {@code -prof gc}
 * for what each allocates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PresenceAnswerBenchmark {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int BATCH_BYTES = 256 * 1024;

    @Param({"40"})
    public int receivers;
    @Param({"full", "compact"})
    public String form;
    private UsersForStates answer;

    @Setup
    public void answer() {
        List<ObjectNode> batch = batch();
        Map<String, Set<JsonNode>> routes = new LinkedHashMap<>();
        for (int n = 0; n < receivers; n++) {
            routes.put("@support" + n + ":example.com", new LinkedHashSet<>(batch));
        }
        answer = new UsersForStates(routes);
    }

    @Benchmark
    public byte[] write() {
        return JSON.writeValueAsBytes(PolicyAnswer.of(ResultTypes.USERS_FOR_STATES, answer, form.equals("compact")).body());
    }

    /** As many states as a batch of 256 KiB holds (1,303). */
    static List<ObjectNode> batch() {
        List<ObjectNode> batch = new ArrayList<>();
        for (int bytes = 0; bytes + state(batch.size()).toString().length() + 1 <= BATCH_BYTES; ) {
            bytes += state(batch.size()).toString().length() + 1;
            batch.add(state(batch.size()));
        }
        return batch;
    }

    /** A state as Synapse's {@code UserPresenceState} sends it, without a status message: about 190 bytes. */
    static ObjectNode state(int n) {
        return JSON.createObjectNode().put("user_id", "@user" + n + ":example.com").put("state", "online")
                .put("last_active_ts", 1_765_000_000_000L + n).put("last_federation_update_ts", 1_765_000_000_000L + n)
                .put("last_user_sync_ts", 1_765_000_000_000L + n).putNull("status_msg").put("currently_active", true);
    }
}
