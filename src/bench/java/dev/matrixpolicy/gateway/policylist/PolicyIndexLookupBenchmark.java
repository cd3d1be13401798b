package dev.matrixpolicy.gateway.policylist;

import java.util.Optional;
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
 * One lookup in the index of a large list, sampled for percentiles. Each call takes the next of
 * 65,536 IDs drawn at random for the query kind, so the caches see a stream of different IDs, not
 * one; {@code MIXED} draws from every kind (a third exact hits, a third misses).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx3g"})
public class PolicyIndexLookupBenchmark {
    private static final int QUERIES = 1 << 16;

    @Param({"1000000"})
    int rules;

    @Param({"MIXED", "EXACT_HIT", "MISS", "GLOB_HIT", "INFIX_HIT", "SUFFIX_HIT", "HASH_HIT", "SERVER", "ROOM"})
    String query;

    PolicyIndex index;
    PolicyLists.Lookup[] lookups;
    int next;

    @Setup
    public void compile() {
        index = PolicyLists.index(PolicyLists.rules(rules));
        lookups = query.equals("MIXED") ? PolicyLists.mixed(rules, QUERIES, 42)
                : PolicyLists.queries(PolicyLists.Query.valueOf(query), rules, QUERIES, 42);
        if (query.endsWith("_HIT")) {
            for (PolicyLists.Lookup lookup : lookups) {
                if (index.decide(lookup.kind(), lookup.id()).isEmpty()) {
                    throw new IllegalStateException("the benchmark's list does not name " + lookup);
                }
            }
        } else if (query.equals("MISS")) {
            for (PolicyLists.Lookup lookup : lookups) {
                if (index.decide(lookup.kind(), lookup.id()).isPresent()) {
                    throw new IllegalStateException("the benchmark's list names " + lookup);
                }
            }
        }
    }

    @Benchmark
    public Optional<PolicyRule> decide() {
        PolicyLists.Lookup lookup = lookups[next++ & (QUERIES - 1)];
        return index.decide(lookup.kind(), lookup.id());
    }
}
