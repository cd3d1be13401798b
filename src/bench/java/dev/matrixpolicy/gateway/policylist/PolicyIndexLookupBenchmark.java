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

    /** Rules added to the list since its whole compile, as a policy room's new bans are: a second layer lookups ask first. */
    @Param({"0"})
    int added;

    PolicyIndex index;
    PolicyLists.Lookup[] lookups;
    int next;

    @Setup
    public void compile() {
        index = PolicyLists.index(PolicyLists.rules(rules));
        if (added > 0) {
            List<PolicyRule> more = new ArrayList<>();
            for (int i = 0; i < added; i++) {
                String entity = switch (i % 4) {
                    case 0 -> "@added-spammer" + i + ":evil.example";
                    case 1 -> "*:added-" + i + ".example";
                    case 2 -> "sha256:" + Entity.hashOf("@added-hashed" + i + ":evil.example");
                    default -> "@*added" + i + "*:*";
                };
                more.add(new PolicyRule(EntityKind.USER, entity.startsWith("sha256:") ? RuleText.entity(entity) : Entity.of(entity),
                        Recommendation.BAN, "spam", new PolicyRule.Origin(PolicyLists.SOURCE, Optional.of("$added" + i), Optional.empty(), 0)));
            }
            index = index.change(1, RuleChanges.adding(more)).orElseThrow();
        }
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
