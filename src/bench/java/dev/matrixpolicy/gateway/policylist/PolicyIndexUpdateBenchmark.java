package dev.matrixpolicy.gateway.policylist;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An update of one source: its new rules compiled and swapped into an index whose other source holds
 * a large list. The update costs its own size; the large source is shared, not recompiled. Run with
 * {@code -prof gc} for what an update allocates: the collections it brings on while requests run are
 * what they feel of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx3g"})
public class PolicyIndexUpdateBenchmark {

    @Param({"1000000"})
    int otherRules;

    @Param({"10000"})
    int updateRules;

    PolicyIndex index;
    Collection<PolicyRule> update;
    byte[] file;

    @Setup
    public void compile() {
        PolicyIndex large = PolicyLists.index(PolicyLists.rules(otherRules));
        index = large.replace(0, new PolicyIndex.Source("allow", List.of()));
        update = PolicyLists.rules(updateRules);
        file = PolicyLists.stateEventsJson(updateRules).getBytes(StandardCharsets.UTF_8);
    }

    /** What a file or URL source's update costs from the bytes it read: parse, compile, swap. */
    @Benchmark
    public PolicyIndex parseAndReplaceSource() {
        return index.replace(0, new PolicyIndex.Source("updated", RuleText.parse(file, "updated").rules()));
    }

    @Benchmark
    public PolicyIndex replaceSource() {
        return index.replace(0, new PolicyIndex.Source("updated", update));
    }
}
