package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.matrix.EventJson;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * A {@code check_event_allowed} call's arguments written back to JSON bytes, as the {@code http}
 * module forwards them: with Jackson's own tree writer, which recurses at every level
 * ({@code jackson}, the build before), and with {@link EventJson}'s, which recurses a few hundred
 * levels and walks any deeper with a stack on the heap ({@code event-json}, what {@link ArgsJson} uses now).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ArgsWritingBenchmark {
    private static final JsonMapper PLAIN = JsonMapper.builder().build();
    private static final JsonMapper PLAIN_SNAKE_CASE = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();

    @Param({"50", "5000"})
    public int stateEvents;
    @Param({"jackson", "event-json"})
    public String writer;
    private CheckEventAllowed.Args args;

    @Setup
    public void args() {
        byte[] body = StateEventsBody.of(stateEvents);
        try (JsonParser parser = PLAIN.createParser(body)) {
            parser.nextToken();
            args = CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(JsonBody.read(PLAIN, body, parser)));
        }
    }

    @Benchmark
    public byte[] writeArgs() {
        return writer.equals("event-json") ? EventJson.MAPPER.writeValueAsBytes(ArgsJson.write(args))
                : PLAIN.writeValueAsBytes(PLAIN_SNAKE_CASE.valueToTree(args));
    }
}
