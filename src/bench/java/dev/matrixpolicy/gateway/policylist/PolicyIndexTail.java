package dev.matrixpolicy.gateway.policylist;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where the tail of {@link PolicyIndexLookupBenchmark}'s mix comes from: the same stream of lookups,
 * each timed on its own and filed under the path it takes (an exact hit, a miss, a glob hit by its
 * infix or suffix path, ...), with each path's percentiles and its share of the slowest 1 % of all
 * lookups. JMH's sample mode gives the mix's percentiles but cannot say which lookups make them.
 * Timing each call with {@code System.nanoTime()} adds some 20 to 30 ns to every figure alike.
 *
 * <pre>java -XX:+UseSerialGC -Xmn64m -Xmx3g -cp ... dev.matrixpolicy.gateway.policylist.PolicyIndexTail 1000000 30</pre>
 *
 * @see PolicyLists#labelledMix
 */
public final class PolicyIndexTail {
    private static final int QUERIES = 1 << 16;
    private static final int WARM_UP_ROUNDS = 20;

    private PolicyIndexTail() {
    }

    public static void main(String[] args) {
        int rules = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        PolicyIndex index = PolicyLists.index(PolicyLists.rules(rules));
        PolicyLists.Labelled[] mix = PolicyLists.labelledMix(rules, QUERIES, 42);
        long[] all = new long[QUERIES * rounds];
        Map<PolicyLists.Query, long[]> byPath = new EnumMap<>(PolicyLists.Query.class);
        Map<PolicyLists.Query, Integer> filled = new EnumMap<>(PolicyLists.Query.class);
        int found = 0;
        int timed = 0;
        for (int round = 0; round < WARM_UP_ROUNDS + rounds; round++) {
            boolean measured = round >= WARM_UP_ROUNDS;
            for (PolicyLists.Labelled lookup : mix) {
                long started = System.nanoTime();
                boolean named = index.decide(lookup.lookup().kind(), lookup.lookup().id()).isPresent();
                long took = System.nanoTime() - started;
                found += named ? 1 : 0;
                if (measured) {
                    int at = filled.merge(lookup.path(), 1, Integer::sum) - 1;
                    byPath.computeIfAbsent(lookup.path(), path -> new long[QUERIES * rounds])[at] = took;
                    all[timed++] = took;
                }
            }
        }
        Arrays.sort(all);
        long slowest = all[(int) (all.length * 0.99)];
        System.out.printf("%d rules, %d lookups timed (%d of all, warm-up included, found a rule)%n", rules, all.length, found);
        System.out.printf("%-10s %9s %6s %6s %6s %6s  %s%n", "path", "lookups", "p50", "p90", "p99", "p99.9", "share of the slowest 1 %");
        print("all", all, 1.0);
        byPath.forEach((path, times) -> {
            long[] taken = Arrays.copyOf(times, filled.get(path));
            Arrays.sort(taken);
            long over = Arrays.stream(taken).filter(took -> took > slowest).count();
            print(path.name(), taken, over / (all.length * 0.01));
        });
    }

    private static void print(String path, long[] sorted, double shareOfSlowest) {
        System.out.printf("%-10s %9d %6d %6d %6d %6d  %.1f %%%n", path, sorted.length, at(sorted, 0.5), at(sorted, 0.9),
                at(sorted, 0.99), at(sorted, 0.999), 100 * shareOfSlowest);
    }

    private static long at(long[] sorted, double quantile) {
        return sorted[(int) (sorted.length * quantile)];
    }
}
