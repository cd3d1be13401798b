package dev.matrixpolicy.gateway.callbacks;

import java.util.Optional;
import java.util.function.Function;
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

    /**
     * The request field with which a client asks for a result's {@linkplain #compactForm compact form},
     * with the value {@value #COMPACT}. Any other value, or none, is answered {@link #toJson}: an older
     * client is answered as before, and a gateway older than the field ignores it, as it ignores any
     * field it does not know, so a client that asks must still read the full form.
     */
    String ANSWER_FORM = "answer_form";
    /** The value of {@value #ANSWER_FORM} that asks for the compact form. */
    String COMPACT = "compact";

    /** This type's compact form, for a type whose {@link #toJson} repeats itself; empty for the others. */
    default Optional<CompactForm<R>> compactForm() {
        return Optional.empty();
    }

    /**
     * A second JSON form of a result, which names each large part once: written where a client asks
     * for it ({@value #ANSWER_FORM}).
     *
     * @param schema the JSON Schema of the compact value of {@code "result"}, for the API reference
     * @param writer writes a result in this form
     */
    record CompactForm<R>(JsonNode schema, Function<R, JsonNode> writer) {
    }
}
