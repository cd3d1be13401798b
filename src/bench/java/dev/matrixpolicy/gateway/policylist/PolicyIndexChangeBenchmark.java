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
 * One new ban, and one withdrawal, in a large policy room, as the compiler thread applies them: the
 * source compiled whole with the change (every update before changes could be layered), the change
 * layered on the source, and the same when the layer already holds the most changes it takes before
 * it is folded in. One update per measurement, as a source makes it. (Named
 * {@code PolicyIndexAddBenchmark} before withdrawals were layered too.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx6g"})
public class PolicyIndexChangeBenchmark {
    /** The position of the list in {@link PolicyLists#index}, after its allow list. */
    private static final int LIST = 1;
    /** As {@code modules.policylist.Compiler.MAX_CHANGED}, which the module package keeps. */
    private static final int MOST_LAYERED = 10_000;

    @Param({"1000000"})
    int rules;

    List<PolicyRule> withNewRule;
    List<PolicyRule> newRule;
    List<PolicyRule> withoutOldRule;
    RuleChanges oldRuleWithdrawn;
    PolicyIndex index;
    PolicyIndex layered;
    /** The list with a second rule naming the withdrawn rule's user, which no slot of the exact table names. */
    PolicyIndex twice;

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
        layered = index.change(LIST, RuleChanges.adding(earlier)).orElseThrow();
        PolicyRule old = list.stream().filter(rule -> rule.kind() == EntityKind.USER && rule.entity().form() == Entity.Form.EXACT)
                .skip(list.size() / 10).findFirst().orElseThrow();
        withoutOldRule = new ArrayList<>(list);
        withoutOldRule.remove(old);
        oldRuleWithdrawn = new RuleChanges(List.of(), List.of(old));
        List<PolicyRule> withSecond = new ArrayList<>(list);
        withSecond.add(new PolicyRule(old.kind(), old.entity(), old.recommendation(), "again",
                new PolicyRule.Origin(PolicyLists.SOURCE, Optional.of("$again"), Optional.empty(), 0)));
        twice = PolicyLists.index(withSecond);
    }

    @Benchmark
    public PolicyIndex compileWhole() {
        return index.replace(LIST, new PolicyIndex.Source(PolicyLists.SOURCE, withNewRule));
    }

    @Benchmark
    public PolicyIndex add() {
        return index.change(LIST, RuleChanges.adding(newRule)).orElseThrow();
    }

    @Benchmark
    public PolicyIndex addToAFullLayer() {
        return layered.change(LIST, RuleChanges.adding(newRule)).orElseThrow();
    }

    @Benchmark
    public PolicyIndex compileWholeWithout() {
        return index.replace(LIST, new PolicyIndex.Source(PolicyLists.SOURCE, withoutOldRule));
    }

    @Benchmark
    public PolicyIndex withdraw() {
        return index.change(LIST, oldRuleWithdrawn).orElseThrow();
    }

    /**
     * A table that holds two rules under one ID finds the other by that ID among the records no slot
     * names (it walked the source's records, some 36 ms at a million, until they were kept by key).
     */
    @Benchmark
    public PolicyIndex withdrawOneOfTwo() {
        return twice.change(LIST, oldRuleWithdrawn).orElseThrow();
    }

    @Benchmark
    public PolicyIndex withdrawBesideAFullLayer() {
        return layered.change(LIST, oldRuleWithdrawn).orElseThrow();
    }
}
