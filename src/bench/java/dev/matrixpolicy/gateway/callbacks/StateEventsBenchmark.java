package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.matrix.StrictUtf8;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
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
import tools.jackson.databind.json.JsonMapper;

/**
 * A {@code check_event_allowed} body, as bytes, to its typed arguments, as the policy API reads it
 * ({@link JsonBody}: the room state checked as it streams past); and the same when a module then
 * reads the whole state. Issue 18: before, both built the whole tree (50 events: 14 KiB).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class StateEventsBenchmark {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Param({"50", "5000"})
    public int stateEvents;
    private byte[] body;

    @Setup
    public void body() {
        body = StateEventsBody.of(stateEvents);
    }

    @Benchmark
    public Object readArgs() {
        return read();
    }

    @Benchmark
    public Object readArgsAndEveryStateEvent() {
        return read().stateEvents().getLast().content();
    }

    /** The estimate of a body's tree that every policy API body is charged with (RequestBodyReader's budget). */
    @Benchmark
    public long treeCost() {
        return JsonTreeCost.of(body).tree();
    }

    /** The strict UTF-8 check every body passes before the parser reads it (RequestBodyReader). */
    @Benchmark
    public int checkUtf8() {
        return StrictUtf8.firstInvalid(body);
    }

    private CheckEventAllowed.Args read() {
        try (JsonParser parser = JSON.createParser(body)) {
            parser.nextToken();
            return CheckEventAllowed.TYPE.reader().apply(JsonArgs.of(JsonBody.read(JSON, body, parser)));
        }
    }
}
