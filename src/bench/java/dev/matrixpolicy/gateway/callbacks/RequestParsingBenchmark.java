package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Parsing and validating a request body once: as a JSON tree then typed arguments, and as the API does, from its bytes. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestParsingBenchmark {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A realistic m.room.message of about 2 KiB, in the body synapse-http-antispam sends. */
    static final byte[] EVENT = ("{\"event\": {\"event_id\": \"$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg\","
            + " \"sender\": \"@alice:example.com\", \"room_id\": \"!OGEhHVWSdvArJzumhm:matrix.org\","
            + " \"type\": \"m.room.message\", \"origin_server_ts\": 1700000000000,"
            + " \"unsigned\": {\"age\": 1234, \"transaction_id\": \"m1700000000000.42\"},"
            + " \"content\": {\"msgtype\": \"m.text\", \"body\": \"" + "lorem ipsum dolor sit amet ".repeat(40)
            + "\", \"format\": \"org.matrix.custom.html\", \"formatted_body\": \"<p>" + "lorem ipsum ".repeat(30) + "</p>\","
            + " \"m.mentions\": {\"user_ids\": [\"@bob:example.com\"]}}}}").getBytes(StandardCharsets.UTF_8);

    static final byte[] INVITE = "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}"
            .getBytes(StandardCharsets.UTF_8);

    @Benchmark
    public Object checkEventForSpam() {
        return CheckEventForSpam.TYPE.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(EVENT)));
    }

    /** As the API reads a body: one streaming pass over its bytes ({@link JsonBody}), and the sender read. */
    @Benchmark
    public Object checkEventForSpamFromBytes() {
        try (JsonParser parser = JSON.createParser(EVENT)) {
            parser.nextToken();
            return CheckEventForSpam.TYPE.reader().apply(JsonArgs.of(JsonBody.read(JSON, EVENT, parser))).event().sender();
        }
    }

    @Benchmark
    public Object userMayInvite() {
        return UserMayInvite.TYPE.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(INVITE)));
    }
}
