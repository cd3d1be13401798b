package dev.matrixpolicy.gateway.callbacks;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A callback's result type: how a fixed answer is read from configuration, how an answer is
 * written as JSON, and how it is labelled in metrics and logs.
 *
 * @param <R> the Java type of the result
 */
public interface ResultType<R> {

    /** Describes the accepted configuration values, for startup error messages. */
    String expected();

    /**
     * Reads a fixed answer from a module's configuration (the {@code static} module).
     *
     * @param value the configured value: a String, a {@code Map<String, Object>}, a {@code List}, or null
     * @param error the configured human-readable message that goes with rejections
     * @throws IllegalArgumentException when the value is not of this type
     */
    R fromConfig(Object value, Optional<String> error);

    /** The value of {@code "result"} in the HTTP answer. */
    JsonNode toJson(R result);

    /** A low-cardinality label for metrics and logs, one of {@link Outcomes}. */
    String outcome(R result);
}
