package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * The registry one module instance sees as {@link ModuleContext#meterRegistry()}: every meter is
 * registered on the gateway's registry, and the instance gets that registry's own meter (the same one
 * a predecessor of the same name got for the same name and tags, so a kept rule counts on). What the
 * instance registers while it is built, on the thread building it, is also written down as its own
 * ({@link #builtWith}): a reload can then tell the series of a rule it dropped, which only the old
 * instance registered, from those of a rule it kept, which the new one registered again. A meter
 * removed here is removed from the gateway's registry.
 */
final class InstanceRegistry extends MeterRegistry {
    private final MeterRegistry target;
    private final String instanceName;
    /** Held while a meter is registered and written down, and while series are removed: {@link InstanceMeters}. */
    private final Object lock;
    private final Thread builder = Thread.currentThread();
    private final Set<Meter> builtWith = Collections.newSetFromMap(new IdentityHashMap<>());
    private volatile boolean built;

    InstanceRegistry(String instanceName, MeterRegistry target, Object lock) {
        super(target.config().clock());
        this.target = target;
        this.instanceName = instanceName;
        this.lock = lock;
        config().onMeterRemoved(meter -> {
            synchronized (lock) {
                builtWith.remove(meter);
                target.remove(meter);
            }
        });
    }

    String instanceName() {
        return instanceName;
    }

    /** Ends the building: what the instance registers from now on is not written down. */
    void built() {
        built = true;
    }

    /** The gateway's meters the instance registered while it was built. Under {@link #lock}. */
    Set<Meter> builtWith() {
        return builtWith;
    }

    private <M extends Meter> M register(Supplier<M> registration) {
        if (built || Thread.currentThread() != builder) {
            return registration.get();
        }
        synchronized (lock) { // no removal between the registration and its note: it would leave the instance a meter nobody scrapes
            M meter = registration.get();
            builtWith.add(meter);
            return meter;
        }
    }

    @Override
    protected Counter newCounter(Meter.Id id) {
        return register(() -> Counter.builder(id.getName()).tags(id.getTagsAsIterable()).description(id.getDescription())
                .baseUnit(id.getBaseUnit()).register(target));
    }

    @Override
    protected <T> Gauge newGauge(Meter.Id id, T obj, ToDoubleFunction<T> valueFunction) {
        return register(() -> Gauge.builder(id.getName(), obj, valueFunction).tags(id.getTagsAsIterable())
                .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target));
    }

    @Override
    protected <T> TimeGauge newTimeGauge(Meter.Id id, T obj, TimeUnit valueFunctionUnit, ToDoubleFunction<T> valueFunction) {
        return register(() -> TimeGauge.builder(id.getName(), obj, valueFunctionUnit, valueFunction)
                .tags(id.getTagsAsIterable()).description(id.getDescription()).register(target));
    }

    @Override
    protected Timer newTimer(Meter.Id id, DistributionStatisticConfig config, PauseDetector pauseDetector) {
        return register(() -> Timer.builder(id.getName()).tags(id.getTagsAsIterable()).description(id.getDescription())
                .publishPercentiles(config.getPercentiles())
                .publishPercentileHistogram(config.isPercentileHistogram())
                .serviceLevelObjectives(durations(config.getServiceLevelObjectiveBoundaries()))
                .minimumExpectedValue(duration(config.getMinimumExpectedValueAsDouble()))
                .maximumExpectedValue(duration(config.getMaximumExpectedValueAsDouble()))
                .distributionStatisticExpiry(config.getExpiry())
                .distributionStatisticBufferLength(config.getBufferLength())
                .percentilePrecision(config.getPercentilePrecision())
                .register(target));
    }

    @Override
    protected DistributionSummary newDistributionSummary(Meter.Id id, DistributionStatisticConfig config, double scale) {
        return register(() -> DistributionSummary.builder(id.getName()).tags(id.getTagsAsIterable())
                .description(id.getDescription()).baseUnit(id.getBaseUnit())
                .publishPercentiles(config.getPercentiles())
                .publishPercentileHistogram(config.isPercentileHistogram())
                .serviceLevelObjectives(config.getServiceLevelObjectiveBoundaries())
                .minimumExpectedValue(config.getMinimumExpectedValueAsDouble())
                .maximumExpectedValue(config.getMaximumExpectedValueAsDouble())
                .distributionStatisticExpiry(config.getExpiry())
                .distributionStatisticBufferLength(config.getBufferLength())
                .percentilePrecision(config.getPercentilePrecision())
                .scale(scale)
                .register(target));
    }

    @Override
    protected LongTaskTimer newLongTaskTimer(Meter.Id id, DistributionStatisticConfig config) {
        return register(() -> LongTaskTimer.builder(id.getName()).tags(id.getTagsAsIterable()).description(id.getDescription())
                .publishPercentiles(config.getPercentiles())
                .publishPercentileHistogram(config.isPercentileHistogram())
                .serviceLevelObjectives(durations(config.getServiceLevelObjectiveBoundaries()))
                .minimumExpectedValue(duration(config.getMinimumExpectedValueAsDouble()))
                .maximumExpectedValue(duration(config.getMaximumExpectedValueAsDouble()))
                .distributionStatisticExpiry(config.getExpiry())
                .distributionStatisticBufferLength(config.getBufferLength())
                .percentilePrecision(config.getPercentilePrecision())
                .register(target));
    }

    @Override
    protected <T> FunctionTimer newFunctionTimer(Meter.Id id, T obj, ToLongFunction<T> countFunction,
                                                 ToDoubleFunction<T> totalTimeFunction, TimeUnit totalTimeFunctionUnit) {
        return register(() -> FunctionTimer.builder(id.getName(), obj, countFunction, totalTimeFunction, totalTimeFunctionUnit)
                .tags(id.getTagsAsIterable()).description(id.getDescription()).register(target));
    }

    @Override
    protected <T> FunctionCounter newFunctionCounter(Meter.Id id, T obj, ToDoubleFunction<T> countFunction) {
        return register(() -> FunctionCounter.builder(id.getName(), obj, countFunction).tags(id.getTagsAsIterable())
                .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target));
    }

    @Override
    protected Meter newMeter(Meter.Id id, Meter.Type type, Iterable<Measurement> measurements) {
        return register(() -> Meter.builder(id.getName(), type, measurements).tags(id.getTagsAsIterable())
                .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target));
    }

    @Override
    protected TimeUnit getBaseTimeUnit() {
        return TimeUnit.SECONDS; // unused: every meter is the gateway registry's, in its unit
    }

    /** None: a meter keeps the settings it was built with, and the gateway's registry adds its own. */
    @Override
    protected DistributionStatisticConfig defaultHistogramConfig() {
        return DistributionStatisticConfig.NONE;
    }

    private static Duration duration(Double nanos) {
        return nanos == null ? null : Duration.ofNanos(nanos.longValue());
    }

    private static Duration[] durations(double[] nanos) {
        return nanos == null ? null : Arrays.stream(nanos).mapToObj(value -> Duration.ofNanos((long) value)).toArray(Duration[]::new);
    }
}
