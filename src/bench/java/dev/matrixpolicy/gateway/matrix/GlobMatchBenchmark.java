package dev.matrixpolicy.gateway.matrix;

import dev.matrixpolicy.bench.Globs;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** One user ID against a compiled denylist: the cost should not grow with the list. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GlobMatchBenchmark {

    @Param({"1000", "10000", "100000"})
    int globs;

    UserIdMatcher matcher;

    @Setup
    public void compile() {
        matcher = UserIdMatcher.compile(Globs.denylist(globs));
        if (matcher.matches("@alice:example.com") || !matcher.matches("@airdrop4-x:example.com")) {
            throw new IllegalStateException("the benchmark's denylist does not match as intended");
        }
    }

    @Benchmark
    public boolean innocentUser() {
        return matcher.matches("@alice.smith:matrix.example.com");
    }

    @Benchmark
    public boolean listedUser() {
        return matcher.matches("@airdrop4-offers:example.com");
    }
}
