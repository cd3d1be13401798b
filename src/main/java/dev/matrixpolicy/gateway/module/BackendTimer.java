package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Times a module's calls to its backend: {@value #NAME}, tagged with the module instance's name
 * ({@code module}) and how the call ended ({@code outcome}). One sample per request; a module that
 * retries records every attempt. All three outcomes are registered up front, so each series exists
 * (at zero) before its first sample and alerts on its rate see it.
 */
public final class BackendTimer {
    /** The timer's name; Prometheus shows it as {@code policy_module_backend_seconds}. */
    public static final String NAME = "policy.module.backend";

    /** How one call to the backend ended: the {@code outcome} tag. */
    public enum Outcome {
        /** The backend answered, and the module could use the answer. */
        SUCCESS,
        /** No usable answer: unreachable, an error status, a reply the module cannot read. */
        ERROR,
        /** No answer in time (see {@link BackendFailures#isTimeout}), a body still coming at the deadline included. */
        TIMEOUT;

        /** The outcome of a failed call. */
        public static Outcome failure(boolean timedOut) {
            return timedOut ? TIMEOUT : ERROR;
        }

        /**
         * The tag value: {@code success}, {@code error} or {@code timeout}. Modules use the same word
         * for the {@code failure} key of their WARN line, so logs and metrics agree.
         */
        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Map<Outcome, Timer> timers = new EnumMap<>(Outcome.class);

    /**
     * @param module the module instance's name ({@link ModuleContext#instanceName()})
     */
    public BackendTimer(String module, MeterRegistry registry) {
        for (Outcome outcome : Outcome.values()) {
            timers.put(outcome, Timer.builder(NAME)
                    .description("Calls from a module to its backend")
                    .tags("module", module, "outcome", outcome.tag())
                    .register(registry));
        }
    }

    /** Records one call that ended with {@code outcome} after {@code nanos} nanoseconds. */
    public void record(Outcome outcome, long nanos) {
        timers.get(outcome).record(nanos, TimeUnit.NANOSECONDS);
    }
}
