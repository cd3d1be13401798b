package dev.matrixpolicy.gateway.callbacks;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A callback's result type: how a fixed answer is read from configuration, how an answer is
 * written as JSON and read back from it, and how it is labelled in metrics and logs.
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

    /**
     * Reads an answer written by {@link #toJson}, e.g. by a remote policy service that speaks the
     * gateway's own contract: {@code fromJson(toJson(r))} equals {@code r}. A {@link Rejection} is
     * read from its error JSON, {@code {"errcode": ..., "error": ...}}, for the types that have one.
     *
     * @param result the JSON value; Java {@code null} reads as JSON {@code null}
     * @throws IllegalArgumentException when the JSON is not of this type's shape
     */
    R fromJson(JsonNode result);

    /**
     * The JSON Schema (draft 2020-12) of the value of {@code "result"} in a 200 answer, for the API
     * reference. A {@link Rejection} is not among them: it is answered 403 with its error JSON.
     */
    JsonNode schema();

    /** Whether an answer of this type may be a {@link Rejection}. */
    boolean mayReject();

    /** A low-cardinality label for metrics and logs, one of {@link Outcomes}. */
    String outcome(R result);
}
