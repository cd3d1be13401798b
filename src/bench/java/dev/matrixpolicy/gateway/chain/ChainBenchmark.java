package dev.matrixpolicy.gateway.chain;

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
import org.openjdk.jmh.annotations.TearDown;

/** The chain engine's own cost: walking N inline links that all fall through. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChainBenchmark {

    @FunctionalInterface
    interface Check {
        String check(String args);
    }

    @Param({"1", "5"})
    int links;

    ChainRunner runner;
    ChainRunner.CompiledChain<String, String> chain;

    @Setup
    public void compile() {
        runner = new ChainRunner(ChainObserver.NONE);
        List<Link<Check>> chainLinks = new ArrayList<>();
        for (int i = 0; i < links; i++) {
            chainLinks.add(new Link<>("module-" + i, args -> "NOT_SPAM", FailurePolicy.FAIL_CLOSED, null));
        }
        chain = runner.compile(new Chain<>("user_may_invite", chainLinks), Check::check,
                new FirstDecisive<>("NOT_SPAM"::equals, "NOT_SPAM"), answer -> "allow");
    }

    @TearDown
    public void close() {
        runner.close();
    }

    @Benchmark
    public Decision<String> allFallThrough() {
        return chain.decide("args");
    }
}
