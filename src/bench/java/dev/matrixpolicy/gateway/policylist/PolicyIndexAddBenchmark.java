package dev.matrixpolicy.gateway.policylist;

import java.util.ArrayList;
import java.util.List;
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
 * One new ban in a large policy room, as the compiler thread applies it: the source compiled whole
 * with it (every update before rules could be added), the rule compiled alone and layered on the
 * source, and the same when the layer already holds the most rules it takes before it is folded in.
 * One update per measurement, as a source makes it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx6g"})
public class PolicyIndexAddBenchmark {
    /** The position of the list in {@link PolicyLists#index}, after its allow list. */
    private static final int LIST = 1;
    /** As {@code PolicyList.MAX_ADDED}, which the module package keeps. */
    private static final int MOST_LAYERED = 10_000;

    @Param({"1000000"})
    int rules;

    List<PolicyRule> withNewRule;
    List<PolicyRule> newRule;
    PolicyIndex index;
    PolicyIndex layered;

    @Setup
    public void compile() {
        List<PolicyRule> list = new ArrayList<>(PolicyLists.rules(rules));
        newRule = List.of(new PolicyRule(EntityKind.USER, Entity.of("@new-spammer:evil.example"), Recommendation.BAN, "spam",
                new PolicyRule.Origin(PolicyLists.SOURCE, Optional.of("$new"), Optional.of("@moderator1:example.org"), 0)));
        withNewRule = new ArrayList<>(list);
        withNewRule.addAll(newRule);
        index = PolicyLists.index(list);
        List<PolicyRule> earlier = new ArrayList<>();
        for (int i = 0; i < MOST_LAYERED - 1; i++) {
            earlier.add(new PolicyRule(EntityKind.USER, Entity.of("@added" + i + ":evil.example"), Recommendation.BAN, "spam",
                    new PolicyRule.Origin(PolicyLists.SOURCE, Optional.of("$added" + i), Optional.empty(), 0)));
        }
        layered = index.add(LIST, earlier);
    }

    @Benchmark
    public PolicyIndex compileWhole() {
        return index.replace(LIST, new PolicyIndex.Source(PolicyLists.SOURCE, withNewRule));
    }

    @Benchmark
    public PolicyIndex add() {
        return index.add(LIST, newRule);
    }

    @Benchmark
    public PolicyIndex addToAFullLayer() {
        return layered.add(LIST, newRule);
    }
}
