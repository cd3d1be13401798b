package dev.matrixpolicy.gateway.observability;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import jdk.management.VirtualThreadSchedulerMXBean;

/**
 * The JDK's virtual thread scheduler as gauges: the carrier threads it aims for and has started,
 * and the virtual threads running on them or waiting for one. Every request runs on a virtual
 * thread, so a queue that stays above zero says that the gateway is short of processors.
 */
final class VirtualThreadSchedulerMetrics implements MeterBinder {
    private final VirtualThreadSchedulerMXBean scheduler;

    VirtualThreadSchedulerMetrics(VirtualThreadSchedulerMXBean scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        gauge(registry, "jvm.threads.virtual.parallelism", "Carrier threads the virtual thread scheduler keeps busy at most",
                VirtualThreadSchedulerMXBean::getParallelism);
        gauge(registry, "jvm.threads.virtual.carriers", "Carrier threads the virtual thread scheduler has started and that still run",
                VirtualThreadSchedulerMXBean::getPoolSize);
        gauge(registry, "jvm.threads.virtual.mounted", "Virtual threads running on a carrier thread (an estimate)",
                VirtualThreadSchedulerMXBean::getMountedVirtualThreadCount);
        gauge(registry, "jvm.threads.virtual.queued", "Virtual threads waiting for a carrier thread to start or go on (an estimate)",
                VirtualThreadSchedulerMXBean::getQueuedVirtualThreadCount);
    }

    private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<VirtualThreadSchedulerMXBean> value) {
        Gauge.builder(name, scheduler, bean -> known(value.applyAsDouble(bean))).description(description).register(registry);
    }

    /** The bean answers -1 for a figure it does not know; a gauge says so with NaN. */
    private static double known(double value) {
        return value < 0 ? Double.NaN : value;
    }
}
