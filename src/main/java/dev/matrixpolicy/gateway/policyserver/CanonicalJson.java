package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.LogText;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Matrix spec's Canonical JSON (appendix "Canonical JSON"): object keys sorted by Unicode code
 * point, no insignificant whitespace, UTF-8, and strings escaped only where JSON must ({@code "},
 * {@code \}, and control characters: {@code \b \f \n \r \t} by name, the others as lower-case
 * backslash-u escapes, {@code 00xx}). Numbers must be integers in [-(2^53)+1, 2^53-1]; anything else is refused with
 * {@link BadJsonException}, as is a string holding a lone surrogate (it has no UTF-8 form).
 *
 * <p>The output is byte for byte what Python's {@code canonicaljson} (and so Synapse) produces, at
 * any depth (the walk keeps its stack on the heap).
 */
public final class CanonicalJson {
    static final BigInteger MAX_INTEGER = BigInteger.TWO.pow(53).subtract(BigInteger.ONE);
    static final BigInteger MIN_INTEGER = MAX_INTEGER.negate();

    /** Code point order, which differs from {@link String#compareTo} above U+FFFF. */
    private static final Comparator<String> BY_CODE_POINT = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private CanonicalJson() {
    }

    /** The canonical UTF-8 bytes of {@code json}. */
    public static byte[] encode(JsonNode json) {
        return toText(json).getBytes(StandardCharsets.UTF_8);
    }

    /** The canonical text of {@code json} (encode it as UTF-8 to sign it). */
    public static String toText(JsonNode json) {
        StringBuilder out = new StringBuilder();
        write(json, out);
        return out.toString();
    }

    private static void write(JsonNode json, StringBuilder out) {
        EventJson.walk(json, new EventJson.Visitor() {
            @Override
            public void open(String name, boolean first, JsonNode container) {
                member(name, first);
                out.append(container.isObject() ? '{' : '[');
            }

            @Override
            public void value(String name, boolean first, JsonNode value) {
                member(name, first);
                writeValue(value, out);
            }

            @Override
            public void close(JsonNode container) {
                out.append(container.isObject() ? '}' : ']');
            }

            @Override
            public Iterable<Map.Entry<String, JsonNode>> members(ObjectNode object) {
                List<Map.Entry<String, JsonNode>> members = new ArrayList<>(object.properties());
                members.sort(Map.Entry.comparingByKey(BY_CODE_POINT));
                return members;
            }

            private void member(String name, boolean first) {
                if (!first) {
                    out.append(',');
                }
                if (name != null) {
                    writeString(name, out);
                    out.append(':');
                }
            }
        });
    }

    private static void writeValue(JsonNode json, StringBuilder out) {
        if (json.isString()) {
            writeString(json.stringValue(), out);
        } else if (json.isIntegralNumber()) {
            BigInteger value = json.bigIntegerValue();
            if (value.compareTo(MIN_INTEGER) < 0 || value.compareTo(MAX_INTEGER) > 0) {
                throw new BadJsonException("Integer " + LogText.escaped(value.toString())
                        + " is outside the canonical JSON range [-(2^53)+1, 2^53-1]");
            }
            out.append(value);
        } else if (json.isNumber()) {
            throw new BadJsonException("Canonical JSON has no floats: " + LogText.escaped(json.toString()));
        } else if (json.isBoolean() || json.isNull()) {
            out.append(json.isNull() ? "null" : json.booleanValue());
        } else {
            throw new BadJsonException("Not JSON: " + json.getNodeType());
        }
    }

    private static void writeString(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(i + 1))) {
                        out.append(c).append(text.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        throw new BadJsonException(String.format("A lone surrogate U+%04X has no UTF-8 form", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
