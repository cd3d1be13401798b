package dev.matrixpolicy.gateway.server;

import java.lang.management.ManagementFactory;
import java.util.OptionalInt;
import jdk.management.VirtualThreadSchedulerMXBean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many carrier threads run the virtual threads that serve every request: twice the processors
 * the JVM may use, unless the operator chose a count with {@code -Djdk.virtualThreadScheduler.parallelism}.
 *
 * <p>The JDK's default is one carrier per processor. A virtual thread is never preempted, but its
 * carrier is: when the kernel gives a processor to the JIT, the collector or another process, the
 * request mounted on that carrier waits until the carrier runs again, and the requests queued
 * behind it have one carrier fewer. With two carriers per processor the kernel shares each
 * processor between them in turns, so a descheduled carrier is back sooner and the queue keeps
 * carriers that run. At saturation on 2 cores shared with the load generator this took the 99th
 * percentile from about 10 ms to 3 ms at the same throughput (docs/performance.md, "Two carriers
 * per processor").
 */
public final class CarrierThreads {
    /** The JDK's setting, read when the first virtual thread starts; the operator's way to choose. */
    public static final String PARALLELISM = "jdk.virtualThreadScheduler.parallelism";
    static final int PER_PROCESSOR = 2;
    /** The most carrier threads the JDK's scheduler takes (its fork-join pool's limit). */
    private static final int MOST = 0x7fff;
    private static final Logger log = LoggerFactory.getLogger(CarrierThreads.class);

    private final int count;

    private CarrierThreads(int count) {
        this.count = count;
    }

    /** The number of carrier threads in force once {@link #apply()} has run. */
    public int count() {
        return count;
    }

    /**
     * Sets the carrier count of the JDK's virtual thread scheduler, which may already be running,
     * to twice the processors unless {@link #PARALLELISM} is set, and logs the count in force.
     *
     * @throws IllegalArgumentException when {@link #PARALLELISM} is set to a count the JDK refuses;
     *                                  checked before the scheduler is touched, which would start it
     */
    public static CarrierThreads apply() {
        OptionalInt count = defaultCount(System.getProperty(PARALLELISM), Runtime.getRuntime().availableProcessors());
        VirtualThreadSchedulerMXBean scheduler = ManagementFactory.getPlatformMXBean(VirtualThreadSchedulerMXBean.class);
        count.ifPresent(scheduler::setParallelism);
        int inForce = scheduler.getParallelism();
        log.info(count.isPresent()
                        ? "Virtual threads run on {} carrier threads, " + PER_PROCESSOR + " per processor (-D" + PARALLELISM + " sets another count)"
                        : "Virtual threads run on {} carrier threads, as -D" + PARALLELISM + " sets",
                inForce);
        return new CarrierThreads(inForce);
    }

    /**
     * The count to set for {@code processors}, or none when the operator set {@link #PARALLELISM} ({@code chosen}).
     *
     * @throws IllegalArgumentException naming the setting, its value and the fix, for a count the JDK
     *                                  refuses: it would fail the first virtual thread with an error
     *                                  that names neither
     */
    static OptionalInt defaultCount(String chosen, int processors) {
        if (chosen == null) {
            return OptionalInt.of(PER_PROCESSOR * processors);
        }
        try {
            int count = Integer.parseInt(chosen); // as the JDK reads it
            if (count >= 1 && count <= MOST) {
                return OptionalInt.empty();
            }
        } catch (NumberFormatException notANumber) {
            // refused below, as a count out of range is
        }
        throw new IllegalArgumentException("-D" + PARALLELISM + "=" + chosen + " is not a count of carrier threads: set a whole"
                + " number from 1 to " + MOST + ", or remove it for " + PER_PROCESSOR + " per processor");
    }
}
