package dev.matrixpolicy.gateway.matrix;

import java.util.LinkedHashMap;
import java.util.Map;

/** The body of a Matrix error answer, {@code {"errcode": ..., "error": ...}}, as both ports write it. */
public final class ErrorBody {
    private ErrorBody() {
    }

    /**
     * The two fields, {@code errcode} first as the spec writes its examples, in the same order in every
     * run: {@code Map.of}'s order changes from one JVM to the next.
     */
    public static Map<String, String> of(String errcode, String error) {
        Map<String, String> body = new LinkedHashMap<>(4);
        body.put("errcode", errcode);
        body.put("error", error);
        return body;
    }
}
