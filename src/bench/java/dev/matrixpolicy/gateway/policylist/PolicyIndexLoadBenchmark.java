package dev.matrixpolicy.gateway.policylist;

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
 * Loading a policy list: from the text a file or URL serves to a usable index (parse and compile),
 * and from parsed rules (compile alone, what a policy room's update costs once its events are read).
 * One load per measurement, as a source loads it: cold structures, and the image's collector.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx6g"})
public class PolicyIndexLoadBenchmark {

    @Param({"100000", "1000000"})
    int rules;

    String json;
    String lines;
    Collection<PolicyRule> parsed;

    @Setup
    public void write() {
        json = PolicyLists.stateEventsJson(rules);
        lines = PolicyLists.lines(rules);
        parsed = RuleText.parse(json, PolicyLists.SOURCE).rules();
        if (parsed.size() != rules) {
            throw new IllegalStateException("expected " + rules + " rules, read " + parsed.size());
        }
    }

    @Benchmark
    public PolicyIndex parseStateEventsAndCompile() {
        return PolicyLists.index(RuleText.parse(json, PolicyLists.SOURCE).rules());
    }

    @Benchmark
    public PolicyIndex parseLinesAndCompile() {
        return PolicyLists.index(RuleText.parse(lines, PolicyLists.SOURCE).rules());
    }

    @Benchmark
    public PolicyIndex compile() {
        return PolicyLists.index(parsed);
    }
}
