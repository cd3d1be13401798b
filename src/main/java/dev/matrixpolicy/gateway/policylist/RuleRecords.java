package dev.matrixpolicy.gateway.policylist;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One source's rules, flat: each rule a record in one byte array, found by its offset. A compiled
 * index holds these instead of the rules' objects, for two reasons. A million rules take about
 * half the heap their objects do. And an update leaves a handful of arrays for the collector to
 * copy instead of eight objects a rule, which is what a young collection's pause grows with. Rules
 * are made again, as {@link PolicyRule}s, only for the lookups that find one.
 *
 * <p>A record is, in order: the kind, form and recommendation (a byte each); the key the rule is
 * looked up by ({@link Entity#key} for exact IDs, else the entity as written); the entity as written,
 * when it differs from the key (marked by length -1 otherwise); the event ID (length -1 when none);
 * then the indexes of its reason, its source's name and its sender (-1 when none) in the records'
 * table of texts, which holds each distinct text once; and its line. Texts are written as
 * {@link Text} says, with a length field that also says how.
 */
final class RuleRecords {
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle CHAR = MethodHandles.byteArrayViewVarHandle(char[].class, ByteOrder.BIG_ENDIAN);
    private static final EntityKind[] KINDS = EntityKind.values();
    private static final Entity.Form[] FORMS = Entity.Form.values();
    private static final Recommendation[] RECOMMENDATIONS = Recommendation.values();
    private static final int KEY = 3;
    private static final int NONE = -1;
    /** The most an array holds, with room for the JVM's header. */
    private static final int MAX_BYTES = Integer.MAX_VALUE - 16;

    private final byte[] bytes;
    private final String[] texts;

    private RuleRecords(byte[] bytes, String[] texts) {
        this.bytes = bytes;
        this.texts = texts;
    }

    /** The offset past the last record: records are walked from 0 with {@link #next}. */
    int end() {
        return bytes.length;
    }

    EntityKind kind(int record) {
        return KINDS[bytes[record]];
    }

    Entity.Form form(int record) {
        return FORMS[bytes[record + 1]];
    }

    Recommendation recommendation(int record) {
        return RECOMMENDATIONS[bytes[record + 2]];
    }

    /** Whether the record's key is {@code key}: compared character by character, with no copy of either. */
    boolean keyEquals(int record, String key) {
        int field = record + KEY;
        int lengthField = intAt(field);
        int length = key.length();
        int from = field + Integer.BYTES;
        boolean narrow = (lengthField & 1) == 0;
        if (Text.byteLength(lengthField) != (narrow ? length : 2 * length)) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char held = narrow ? (char) (bytes[from + i] & 0xFF) : (char) CHAR.get(bytes, from + 2 * i);
            if (held != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether two records have the same key: a text is written one way only, so equal texts have equal bytes. */
    boolean keysEqual(int record, int other) {
        int field = record + KEY;
        int otherField = other + KEY;
        int lengthField = intAt(field);
        if (lengthField != intAt(otherField)) {
            return false;
        }
        int from = field + Integer.BYTES;
        int otherFrom = otherField + Integer.BYTES;
        int length = Text.byteLength(lengthField);
        return Arrays.equals(bytes, from, from + length, bytes, otherFrom, otherFrom + length);
    }

    /** The entity as the rule wrote it. */
    String value(int record) {
        int keyField = record + KEY;
        int valueField = skipText(keyField);
        return intAt(valueField) == NONE ? text(keyField) : text(valueField);
    }

    /** The offset of the record after this one. */
    int next(int record) {
        return skipText(skipText(skipText(record + KEY))) + 4 * Integer.BYTES;
    }

    /** The rule the record holds, made again. */
    PolicyRule rule(int record) {
        int eventField = skipText(skipText(record + KEY));
        int indexes = skipText(eventField);
        Optional<String> eventId = intAt(eventField) == NONE ? Optional.empty() : Optional.of(text(eventField));
        int sender = intAt(indexes + 2 * Integer.BYTES);
        PolicyRule.Origin origin = new PolicyRule.Origin(texts[intAt(indexes + Integer.BYTES)], eventId,
                sender == NONE ? Optional.empty() : Optional.of(texts[sender]), intAt(indexes + 3 * Integer.BYTES));
        return new PolicyRule(kind(record), new Entity(form(record), value(record)), recommendation(record),
                texts[intAt(indexes)], origin);
    }

    private String text(int field) {
        return Text.decode(bytes, field);
    }

    /** The offset after a text field, or after its length alone when it is absent. */
    private int skipText(int field) {
        int length = intAt(field);
        return field + Integer.BYTES + (length == NONE ? 0 : Text.byteLength(length));
    }

    private int intAt(int offset) {
        return (int) INT.get(bytes, offset);
    }

    /**
     * Strings as bytes, losslessly: one byte a character when every character is below 256 (IDs and
     * event IDs are ASCII), else two (each UTF-16 unit as it is), the way {@code String} itself
     * stores them. Unlike UTF-8, no string (a lone surrogate included) is changed on the way. The
     * length field holds the byte count shifted left once, with the low bit set for two-byte text.
     */
    private static final class Text {
        private Text() {
        }

        static String decode(byte[] bytes, int field) {
            int length = (int) INT.get(bytes, field);
            int from = field + Integer.BYTES;
            if ((length & 1) == 0) {
                return new String(bytes, from, byteLength(length), StandardCharsets.ISO_8859_1);
            }
            char[] chars = new char[byteLength(length) / 2];
            for (int i = 0; i < chars.length; i++) {
                chars[i] = (char) CHAR.get(bytes, from + 2 * i);
            }
            return new String(chars);
        }

        /** The byte count a length field gives. */
        static int byteLength(int lengthField) {
            return lengthField >>> 1;
        }
    }

    /**
     * Writes records; the first record is at offset 0. The records may be written in regions, one after
     * another in the array, each sized in advance and filled in the order its records are given: a
     * lookup path that only a few rules take (hashes, globs) then finds them close together, not spread
     * over the whole array. Only the last region grows when more is written to it than expected.
     */
    static final class Builder {
        private byte[] bytes;
        /** Where each region starts; the last one ends with the array. */
        private final int[] regionStart;
        /** Where each region's next record goes. */
        private final int[] regionEnd;
        private final Map<String, Integer> textIndexes = new HashMap<>();
        /** The region being written, and where its writing is. */
        private int region;
        private int end;

        /**
         * @param expectedBytes what the records will take, the sum of {@link #recordBytes}: the array is
         *                      made once at that size and kept as it is, so a million rules never stand in
         *                      the heap twice (a guessed size, then the copy trimmed to what was written)
         */
        Builder(long expectedBytes) {
            this(new long[] {expectedBytes});
        }

        /**
         * @param regionBytes what each region's records take, the sum of their {@link #recordBytes}:
         *                    exactly, except for the last region
         */
        Builder(long[] regionBytes) {
            regionStart = new int[regionBytes.length];
            long total = 0;
            for (int region = 0; region < regionBytes.length; region++) {
                regionStart[region] = (int) Math.min(total, MAX_BYTES);
                total += regionBytes[region];
            }
            regionEnd = regionStart.clone();
            bytes = new byte[(int) Math.clamp(total, 64, MAX_BYTES)];
        }

        /** The bytes {@link #add} writes for a rule. */
        static long recordBytes(PolicyRule rule, String key) {
            String value = rule.entity().value();
            return 3 + textBytes(key) + textBytes(value.equals(key) ? null : value)
                    + textBytes(rule.origin().eventId().orElse(null)) + 4 * Integer.BYTES;
        }

        private static int textBytes(String text) {
            return Integer.BYTES + (text == null ? 0 : narrow(text) ? text.length() : 2 * text.length());
        }

        /** Whether every character of the text fits in one byte. */
        private static boolean narrow(String text) {
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) >= 0x100) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Appends a rule's record to the only region, or the last.
         *
         * @param key what the rule is looked up by: {@link Entity#key} for exact IDs, else the entity as written
         * @return the record's offset
         */
        int add(PolicyRule rule, String key) {
            return add(rule, key, regionEnd.length - 1);
        }

        /**
         * Appends a rule's record to a region.
         *
         * @param key what the rule is looked up by: {@link Entity#key} for exact IDs, else the entity as written
         * @return the record's offset
         * @throws IllegalStateException when the record does not fit in a region other than the last: the
         *                               sizes given are not those of the records written
         */
        int add(PolicyRule rule, String key, int region) {
            this.region = region;
            end = regionEnd[region];
            int record = end;
            ensure(3);
            bytes[end++] = (byte) rule.kind().ordinal();
            bytes[end++] = (byte) rule.entity().form().ordinal();
            bytes[end++] = (byte) rule.recommendation().ordinal();
            putText(key);
            String value = rule.entity().value();
            putText(value.equals(key) ? null : value);
            putText(rule.origin().eventId().orElse(null));
            ensure(4 * Integer.BYTES);
            putInt(index(rule.reason()));
            putInt(index(rule.origin().source()));
            putInt(rule.origin().sender().map(this::index).orElse(NONE));
            putInt(rule.origin().line());
            regionEnd[region] = end;
            return record;
        }

        /**
         * The records; the builder is not used again.
         *
         * @throws IllegalStateException when a region other than the last is not filled exactly
         */
        RuleRecords build() {
            for (int region = 0; region < regionEnd.length - 1; region++) {
                if (regionEnd[region] != regionStart[region + 1]) {
                    throw new IllegalStateException("region " + region + " holds " + (regionEnd[region] - regionStart[region])
                            + " bytes of records, not the " + (regionStart[region + 1] - regionStart[region]) + " sized for it");
                }
            }
            String[] texts = new String[textIndexes.size()];
            textIndexes.forEach((text, index) -> texts[index] = text);
            int last = regionEnd[regionEnd.length - 1];
            return new RuleRecords(last == bytes.length ? bytes : Arrays.copyOf(bytes, last), texts);
        }

        private int index(String text) {
            return textIndexes.computeIfAbsent(text, added -> textIndexes.size());
        }

        /** A text's length field and its characters, written straight into the array; length -1 for null. */
        private void putText(String text) {
            if (text == null) {
                ensure(Integer.BYTES);
                putInt(NONE);
                return;
            }
            int length = text.length();
            boolean narrow = narrow(text);
            int byteLength = narrow ? length : 2 * length;
            ensure(Integer.BYTES + byteLength);
            putInt(byteLength << 1 | (narrow ? 0 : 1));
            for (int i = 0; i < length; i++) { // char by char: a charset would replace a lone surrogate
                if (narrow) {
                    bytes[end + i] = (byte) text.charAt(i);
                } else {
                    CHAR.set(bytes, end + 2 * i, text.charAt(i));
                }
            }
            end += byteLength;
        }

        private void putInt(int value) {
            INT.set(bytes, end, value);
            end += Integer.BYTES;
        }

        private void ensure(int more) {
            if ((long) end + more > MAX_BYTES) {
                throw new IllegalStateException("a source's rules take more than 2 GiB: split the list");
            }
            if (region < regionStart.length - 1 && end + more > regionStart[region + 1]) {
                throw new IllegalStateException("region " + region + " was sized " + (regionStart[region + 1] - regionStart[region])
                        + " bytes, too few for its records");
            }
            if (end + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(MAX_BYTES, Math.max(end + more, bytes.length + (long) bytes.length / 2)));
            }
        }
    }
}
