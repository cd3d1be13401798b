package dev.matrixpolicy.gateway.state;

import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * What a fill of keys takes of the heap, against {@link MemoryState#estimatedBytes}: run in a JVM of
 * its own ({@link MemoryStateTest}), so that nothing else allocates, with the serial collector of the
 * image, whose heap in use after a full collection is what is live. One line a fill: its name, the
 * bytes the heap grew by, the estimate.
 */
final class MemoryStateFootprint {
    private MemoryStateFootprint() {
    }

    public static void main(String[] args) {
        measure("buckets", 100_000, 0);
        measure("windows-of-1", 10_000, 1);
        measure("windows-of-11", 10_000, 11);
        measure("windows-of-101", 1_000, 101);
    }

    /** Ordinary IDs: a rate limit's sender, a content rule's sender, fingerprint and rooms. */
    private static void measure(String name, int keys, int members) {
        MemoryState state = new MemoryState(System::nanoTime, Long.MAX_VALUE / 4);
        long before = liveHeap();
        Bucket bucket = new Bucket(10, Duration.ofMinutes(10)); // one, as a configured limit's or rule's
        Duration window = Duration.ofHours(1);
        for (int i = 0; i < keys; i++) {
            if (members == 0) {
                state.take("rate_limits:rate_limits-0:events:sender:@user" + i + ":example.com", bucket);
            } else {
                String key = "content_rules:content_rules-0:600000:@user" + i + ":example.com:" + Long.toHexString(i * 0x9E3779B97F4A7C15L);
                for (int m = 0; m < members; m++) {
                    state.countDistinct(key, "!room" + m + ":example.com", window);
                }
            }
        }
        long estimate = state.estimatedBytes();
        long grew = liveHeap() - before;
        System.out.println(name + " " + grew + " " + estimate);
        java.lang.ref.Reference.reachabilityFence(state);
    }

    private static long liveHeap() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
