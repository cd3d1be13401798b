package dev.matrixpolicy.gateway.policylist;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Collection;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The heap a compiled index keeps, rules included (it holds them flat, not as the parsed objects):
 * used heap after full collections, with the index
 * held, less the same without it. Run with a collector whose System.gc() is a full, compacting
 * collection (Serial, as the image runs) and nothing else in the JVM:
 *
 * <pre>java -XX:+UseSerialGC -Xmx4g -cp ... dev.matrixpolicy.gateway.policylist.PolicyIndexHeap 100000 1000000</pre>
 */
public final class PolicyIndexHeap {
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private PolicyIndexHeap() {
    }

    public static void main(String[] args) {
        // warm up the classes and constants involved, so they are in the baseline, not the figure
        PolicyLists.index(RuleText.parse(PolicyLists.stateEventsJson(1000), PolicyLists.SOURCE).rules());
        PolicyLists.index(RuleText.parse(PolicyLists.lines(1000), PolicyLists.SOURCE).rules());
        for (String arg : args) {
            int size = Integer.parseInt(arg);
            measure(size, "state events (JSON)", () -> PolicyLists.stateEventsJson(size));
            measure(size, "line format", () -> PolicyLists.lines(size));
        }
    }

    private static void measure(int size, String format, Supplier<String> written) {
        long before = usedAfterGc();
        // the text is not part of the figure: nothing holds it once it is parsed
        Collection<PolicyRule> rules = RuleText.parse(written.get(), PolicyLists.SOURCE).rules();
        long withRules = usedAfterGc() - before;
        PolicyIndex index = PolicyLists.index(rules);
        rules = null; // the index holds the rules itself, flat
        long withIndex = usedAfterGc() - before;
        if (index.decide(EntityKind.USER, "@nobody:example.org").isPresent()) {
            throw new IllegalStateException("unexpected match"); // and keeps the index reachable until here
        }
        System.out.printf(Locale.ROOT, "%,d rules, %s: parsed rules %.1f MiB (%d B/rule); compiled index, rules included, %.1f MiB (%d B/rule)%n",
                size, format, mib(withRules), withRules / size, mib(withIndex), withIndex / size);
    }

    private static long usedAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return MEMORY.getHeapMemoryUsage().getUsed();
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }
}
