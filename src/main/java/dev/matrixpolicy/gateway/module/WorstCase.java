package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.replies.Durations;
import java.time.Duration;
import java.util.Objects;

/**
 * The longest one call of a module can take before the module gives up on its backend by itself
 * and answers by its own failure handling, as its settings bound it, with how that bound is
 * computed, for the administrator who has to compare it with the entry's {@code timeout}.
 *
 * @param time        the bound: every wait the module may make in one call, at its longest
 * @param computation how {@code time} follows from the module's settings, in their configuration
 *                    names, e.g. {@code connect-timeout 1s + timeout 2s}
 */
public record WorstCase(Duration time, String computation) {
    public WorstCase {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(computation, "computation");
    }

    /**
     * One request to a backend, by the keys of the built-in modules: connecting within
     * {@code connect-timeout}, then waiting for the answer within {@code timeout}.
     */
    public static WorstCase ofRequest(Duration connectTimeout, Duration timeout) {
        return new WorstCase(connectTimeout.plus(timeout),
                "connect-timeout " + Durations.format(connectTimeout) + " + timeout " + Durations.format(timeout));
    }
}
