package dev.matrixpolicy.gateway.matrix;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One user ID against a list of mostly exact IDs (one glob in a hundred), the shape of a large
 * list file: the exact-ID lookup is what this measures, and it should not grow with the list.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ExactIdBenchmark {

    @Param({"1000", "1000000"})
    int entries;

    UserIdMatcher matcher;

    @Setup
    public void compile() {
        List<String> list = new ArrayList<>(entries);
        for (int i = 0; i < entries; i++) {
            list.add(i % 100 == 99 ? "@spam" + i + "-*:*" : "@user" + i + ":server" + (i % 1000) + ".example");
        }
        matcher = UserIdMatcher.compile(list);
        if (matcher.matches("@alice:example.com") || !matcher.matches(listedId()) || !matcher.matches("@User7:Server7.example")) {
            throw new IllegalStateException("the benchmark's list does not match as intended");
        }
    }

    private String listedId() {
        return "@user" + (entries / 2) + ":server" + (entries / 2 % 1000) + ".example";
    }

    @Benchmark
    public boolean innocentUser() {
        return matcher.matches("@alice.smith:matrix.example.com");
    }

    @Benchmark
    public boolean listedUser() {
        return matcher.matches("@user500:server500.example");
    }

    @Benchmark
    public boolean listedUserInUpperCase() {
        return matcher.matches("@User500:Server500.example");
    }
}
