package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.JsonBody;
import dev.matrixpolicy.gateway.callbacks.StateEventsBody;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
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

/**
 * What {@code audit_webhook} now does on the caller's thread for each notification: write the record
 * it will send. An {@code on_new_event} of a ~2 KiB message, read as the API reads a request, with
 * its room state of 50 events left out (the default) or included ({@code include-state-events}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AuditRecordWritingBenchmark {
    @Param({"false", "true"})
    public boolean includeStateEvents;
    private AuditRecords records;
    private OnNewEvent.Args args;

    @Setup
    public void args() {
        records = new AuditRecords("example.com", includeStateEvents);
        byte[] body = StateEventsBody.of(50);
        try (JsonParser parser = EventJson.MAPPER.createParser(body)) {
            parser.nextToken();
            args = OnNewEvent.TYPE.reader().apply(JsonArgs.of(JsonBody.read(EventJson.MAPPER, body, parser)));
        }
    }

    @Benchmark
    public AuditRecords.Written write() {
        return records.write(OnNewEvent.TYPE, args);
    }
}
