package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.support.Gen;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Seeded request bodies with names holding half a surrogate pair (a lone escape, which only
 * Jackson's parser of characters reads, so {@link RequestBodyReader} reads such a body a second time,
 * as text), at every depth of a callback's valid body: top-level fields, the elements of lists that
 * {@code JsonBody} keeps as spans ({@code state_events}), event content, objects it defers; combined
 * with the faults a body can have: cut short, not UTF-8, a byte order mark, data after it, nested too
 * deep, numbers too long or out of range, names sent twice, and characters of two to four bytes
 * before the fault, so that byte and character offsets differ.
 *
 * <p>Each comes with its twin: the same bytes, each half a pair's six-character escape in a name
 * replaced by backslash-u 0041, which the parser of bytes reads. Of the same length, a twin has its faults at the
 * same byte offsets, and is the oracle: a body must be answered as its twin is, names aside.
 */
final class HalfPairBodies {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** The forms of a name the parser of bytes refuses: a low half alone, a high half at the end, before another character or escape. */
    private static final List<String> HALVES = List.of("\\udc00", "\\ud800", "a\\ud800b", "\\ud800\\u0041", "\\uDBFF\\uD800", "\\uDFFF");
    private static final String PLACEHOLDER = "zzHALF";
    /** What the twin has instead of each half: ASCII, the same six characters. */
    static final String TWIN = "\\u0041";
    /** A character of each UTF-8 length, and a name and value to put them before everything else. */
    private static final String WIDE = "\"\u00e9\u20ac\ud83d\ude00\": \"\u00e9\u20ac\ud83d\ude00\", ";
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{4}");

    /** A body and its twin, as bytes, and what was done to them. */
    record Twins(byte[] half, byte[] twin, List<String> faults) {
        @Override
        public String toString() {
            String text = new String(half, StandardCharsets.UTF_8);
            return faults + ": " + (text.length() > 1500 ? text.substring(0, 1500) + "... (" + half.length + " bytes)" : text);
        }
    }

    private final Gen gen;

    HalfPairBodies(Gen gen) {
        this.gen = gen;
    }

    /** A body made from {@code valid} (a JSON object) with one to three names of half a pair, maybe a fault too. */
    Twins next(String valid) {
        List<String> faults = new ArrayList<>();
        ObjectNode body = gen.chance(0.3) ? gen.mutate(Gen.parse(valid)) : Gen.parse(valid);
        List<ObjectNode> objects = new ArrayList<>();
        collect(body, objects);
        int halves = gen.between(1, 3);
        for (int i = 0; i < halves; i++) {
            ObjectNode into = i == 0 && gen.chance(0.3) ? body : gen.oneOf(objects);
            JsonNode value = gen.chance(0.3) ? Gen.parse("{\"k\": [1, {\"" + PLACEHOLDER + "n" + i + "\": 2}]}") : gen.json(2);
            if (gen.chance(0.5)) {
                ObjectNode rest = into.deepCopy();
                into.removeAll().set(PLACEHOLDER + i, value);
                into.setAll(rest);
            } else {
                into.set(PLACEHOLDER + i, value);
            }
        }
        String text = new String(JSON.writeValueAsBytes(body), StandardCharsets.UTF_8);
        for (int i = 0; i < halves; i++) {
            text = text.replace("\"" + PLACEHOLDER + i + "\"", "\"" + i + gen.oneOf(HALVES) + "\"")
                    .replace("\"" + PLACEHOLDER + "n" + i + "\"", "\"" + gen.oneOf(HALVES) + "n\"");
        }
        if (gen.chance(0.5)) {
            text = "{" + WIDE + text.substring(1);
            faults.add("wide characters first");
        }
        text = fault(text, faults);
        byte[] bytes = (gen.chance(0.15) ? "\ufeff" + text : text).getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0 && bytes[0] == (byte) 0xEF) {
            faults.add("byte order mark");
        }
        if (bytes.length > 0 && gen.chance(0.08)) {
            bytes[gen.random().nextInt(bytes.length)] = gen.oneOf(List.of((byte) 0xFF, (byte) 0xC0, (byte) 0x80, (byte) 0xED));
            faults.add("not UTF-8");
        }
        return new Twins(bytes, twin(bytes), faults);
    }

    private String fault(String text, List<String> faults) {
        int kind = gen.random().nextInt(16);
        int at = gen.random().nextInt(text.length() + 1);
        String fault = switch (kind) {
            case 0, 1 -> {
                text = text.substring(0, at);
                yield "cut short";
            }
            case 2 -> {
                text = text + gen.oneOf(List.of("{}", "x", " 1", "\u00e9", " {\"\\udc00\": 1}", "\"\\ud800\""));
                yield "data after it";
            }
            case 3 -> {
                text = insertValue(text, gen.deeplyNested(gen.oneOf(List.of(50, 1000, 70_000)), gen.chance(0.8)).substring(5));
                yield "nested deep";
            }
            case 4 -> {
                text = insertValue(text, gen.oneOf(List.of("1e99999999999", "-1e400", "9".repeat(70_000), "0." + "1".repeat(70_000),
                        "1" + "0".repeat(400), "1.5e-99999999999")));
                yield "huge number";
            }
            case 5 -> {
                // past the limit in bytes (40,000 é) or characters too; not past 131,072 bytes, where the parser of
                // bytes stops counting and tells the name's 131,072nd byte instead of its end
                text = insertName(text, gen.oneOf(List.of("\u00e9".repeat(100), "\u00e9".repeat(40_000), "a".repeat(70_000))));
                yield "long name";
            }
            case 6 -> {
                text = text.replaceFirst("(\"[0-9]a?\\\\u[^\"]*\":[^,{}\\[\\]]*),", "$1,$1,");
                yield "name sent twice";
            }
            case 7 -> {
                text = text.replaceFirst("(\"state_events\":\\[[^\\]]*\\]|\"content\":\\{[^{}]*\\}|\"request_content\":\\{[^{}]*\\})",
                        "$1,\"\\\\udc00\":5,$1");
                yield "list or object sent twice";
            }
            case 8, 9, 10 -> {
                text = gen.nearJson(text);
                yield "nearly JSON";
            }
            default -> null;
        };
        if (fault != null) {
            faults.add(fault);
        }
        return text;
    }

    /** {@code text} with a field holding {@code value} added at a random object start. */
    private String insertValue(String text, String value) {
        return insertAfterBrace(text, "\"v\": " + value + ", ");
    }

    private String insertName(String text, String name) {
        return insertAfterBrace(text, "\"" + name + "\": 1, ");
    }

    private String insertAfterBrace(String text, String field) {
        List<Integer> braces = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '{' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                braces.add(i + 1);
            }
        }
        int at = braces.isEmpty() ? 1 : gen.oneOf(braces);
        return text.substring(0, Math.min(at, text.length())) + field + text.substring(Math.min(at, text.length()));
    }

    private static void collect(JsonNode node, List<ObjectNode> objects) {
        if (node instanceof ObjectNode object) {
            objects.add(object);
        }
        node.values().forEach(child -> collect(child, objects));
    }

    /**
     * The twin of a body: in each name (a string followed by ':'), each escape of half a pair, as
     * JSON reads escapes (a backslash escapes the character after it; a high half escaped before a
     * low one is a whole pair), replaced by {@link #TWIN}; values keep theirs, which a callback may
     * refuse (an ID holding half a pair). Only escapes change, which are ASCII, so the bytes stay as
     * they are, not UTF-8 included.
     */
    static byte[] twin(byte[] bytes) {
        byte[] twin = bytes.clone();
        for (int at = 0; at < twin.length; at++) {
            if (twin[at] == '"') {
                int end = stringEnd(twin, at);
                int next = end + 1;
                while (next < twin.length && (twin[next] == ' ' || twin[next] == '\n' || twin[next] == '\r' || twin[next] == '\t')) {
                    next++;
                }
                if (next < twin.length && twin[next] == ':') {
                    ordinaryHalves(twin, at + 1, end);
                }
                at = end;
            }
        }
        return twin;
    }

    /** Where the string starting at {@code at} ends: its closing quote, or the end of the bytes. */
    private static int stringEnd(byte[] bytes, int at) {
        int i = at + 1;
        while (i < bytes.length && bytes[i] != '"') {
            i += bytes[i] == '\\' ? 2 : 1;
        }
        return Math.min(i, bytes.length);
    }

    private static void ordinaryHalves(byte[] bytes, int from, int to) {
        for (int i = from; i < to - 1; i++) {
            if (bytes[i] != '\\') {
                continue;
            }
            int unit = escaped(bytes, i);
            if (Character.isHighSurrogate((char) unit) && Character.isLowSurrogate((char) escaped(bytes, i + 6))) {
                i += 11;
            } else if (Character.isSurrogate((char) unit)) {
                System.arraycopy(TWIN.getBytes(StandardCharsets.US_ASCII), 0, bytes, i, 6);
                i += 5;
            } else {
                i++;
            }
        }
    }

    private static int escaped(byte[] bytes, int at) {
        if (at + 6 > bytes.length || bytes[at] != '\\' || bytes[at + 1] != 'u') {
            return -1;
        }
        String hex = new String(bytes, at + 2, 4, StandardCharsets.ISO_8859_1);
        return HEX.matcher(hex).matches() ? Integer.parseInt(hex, 16) : -1;
    }
}
