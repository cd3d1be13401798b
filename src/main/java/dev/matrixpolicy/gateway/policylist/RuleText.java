package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.LogText;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractCollection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * The two formats of a policy list file or URL, told apart by their first character.
 *
 * <ul>
 *   <li><b>JSON</b>: a policy room's state events, as {@code GET /rooms/{roomId}/state} answers them:
 *       an array of events (or an object with that array under {@code events}). Read as the room would
 *       be: the last event of each (type, state key) holds, empty content clears it.</li>
 *   <li><b>Lines</b>: one rule per line, {@code <recommendation> <kind> <entity> [reason]}, e.g.
 *       {@code ban user @spammer:example.com crypto spam}, {@code allow server friends.example},
 *       {@code takedown user sha256:VPqwbUV7mMMkOVto3kPwsNXXiALMs7VCKWh3OeqqjGs}. Blank lines and lines
 *       starting with {@code #} are skipped.</li>
 * </ul>
 * A file with a line that is not a rule is refused whole, naming the line, so a typo never drops half
 * a list silently.
 */
public final class RuleText {
    private static final JsonMapper JSON = EventJson.MAPPER;
    /** Why content with no rule and no comment is refused: read as a list, it would lift every ban at once. */
    static final String EMPTY = "the list is empty; a list with no rules is written as [] or a comment line";

    /** Content with no rule and no comment, refused ({@link #EMPTY}): a file's reader says so in a file's words. */
    static final class EmptyListException extends IllegalArgumentException {
        EmptyListException() {
            super(EMPTY);
        }
    }

    private RuleText() {
    }

    /**
     * Rules read from a file or URL.
     *
     * @param rules   the rules, in the order read: held for JSON, read again from the bytes on each
     *                iteration for the line format
     * @param skipped rule events that hold no rule this gateway applies, by reason (JSON only)
     */
    public record Parsed(Collection<PolicyRule> rules, Map<PolicyEvents.Skipped, Integer> skipped) {
    }

    /**
     * Reads a file's or a response's bytes, which must be UTF-8. JSON is parsed from the bytes
     * themselves: a list of some megabytes read again every few seconds would otherwise be copied
     * into text twice (the decoder's buffer, then the string) before the first rule is read, and the
     * collections those copies bring on while an update is in flight are what request latency feels.
     * The line format's rules keep reading {@code utf8}, which must not change afterwards.
     *
     * @throws IllegalArgumentException naming what is wrong, and where
     */
    public static Parsed parse(byte[] utf8, String source) {
        int start = hasByteOrderMark(utf8) ? 3 : 0; // some editors write one; it says nothing in UTF-8
        int first = firstNonBlank(utf8, start);
        if (first < utf8.length && (utf8[first] == '[' || utf8[first] == '{')) {
            return json(utf8, source);
        }
        return lines(utf8, start, source);
    }

    /** As {@link #parse(byte[], String)}, from text. */
    public static Parsed parse(String text, String source) {
        return parse(text.getBytes(StandardCharsets.UTF_8), source);
    }

    /** The offset of the first byte from {@code start} on that is not white space, or the length. */
    private static int firstNonBlank(byte[] utf8, int start) {
        int first = start;
        while (first < utf8.length && isJsonWhitespace(utf8[first])) {
            first++;
        }
        return first;
    }

    private static boolean hasByteOrderMark(byte[] utf8) {
        return utf8.length >= 3 && utf8[0] == (byte) 0xEF && utf8[1] == (byte) 0xBB && utf8[2] == (byte) 0xBF;
    }

    private static boolean isJsonWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /**
     * One line's text; every line is decoded, comments too, so a file that is not UTF-8 is refused
     * wherever the bad byte is.
     */
    private static String decode(byte[] utf8, int start, int end, CharsetDecoder decoder) {
        int i = start;
        while (i < end && utf8[i] >= 0) {
            i++;
        }
        if (i == end) {
            return new String(utf8, start, end - start, StandardCharsets.US_ASCII); // the usual line: no decoder needed
        }
        try {
            return decoder.decode(ByteBuffer.wrap(utf8, start, end - start)).toString();
        } catch (CharacterCodingException notUtf8) {
            throw new IllegalArgumentException("not UTF-8 text", notUtf8); // the cause: a file's reader says it in a file's words
        }
    }

    /**
     * Reads the events one at a time off the parser, each without a tree: a list of a million rules
     * read into one tree would take several gigabytes before its first rule was read.
     */
    private static Parsed json(byte[] utf8, String source) {
        Map<PolicyEvents.Slot, PolicyEvents.Change> slots = new LinkedHashMap<>();
        boolean olderTypes = false; // whether any slot is of an older type than the spec's, which a newer one could override
        try (JsonParser parser = JSON.createParser(utf8)) {
            JsonToken top = parser.nextToken();
            if (!findEvents(parser, top)) {
                throw new IllegalArgumentException("expected a JSON array of state events, or an object with one under 'events'");
            }
            int item = 0;
            for (JsonToken event = parser.nextToken(); event != JsonToken.END_ARRAY; event = parser.nextToken()) {
                if (event == null) {
                    throw new IllegalArgumentException("not valid JSON: the array of events ends early");
                }
                item++;
                if (event != JsonToken.START_OBJECT) {
                    // as a line that is not a rule: a list of rule lines in JSON, or of anything but events,
                    // holds no rule, and read so it would lift every ban the source held
                    throw new IllegalArgumentException("line " + parser.currentTokenLocation().getLineNr() + ": item " + item
                            + " of the events is " + kindOf(event) + ", not an event (a JSON object)");
                }
                Optional<PolicyEvents.Change> change = PolicyEvents.read(parser, source);
                if (change.isPresent()) {
                    slots.put(change.get().slot(), change.get());
                    olderTypes |= !change.get().slot().isNewestType();
                }
            }
            // the rest is read too, so that a file cut short or with junk after the events is refused
            if (top == JsonToken.START_OBJECT) {
                skipFields(parser);
            }
            if (parser.nextToken() != null) {
                throw new IllegalArgumentException("not valid JSON: more content after the events");
            }
        } catch (JacksonException malformed) {
            throw new IllegalArgumentException("not valid JSON: " + malformed.getOriginalMessage());
        }
        List<PolicyRule> rules = new ArrayList<>();
        Map<PolicyEvents.Skipped, Integer> skipped = new EnumMap<>(PolicyEvents.Skipped.class);
        for (Map.Entry<PolicyEvents.Slot, PolicyEvents.Change> slot : slots.entrySet()) {
            if (olderTypes && slot.getKey().deciding(slots::get) != slot.getValue()) {
                continue; // overridden by its state key's event of a newer type, as in a policy room
            }
            switch (slot.getValue()) {
                case PolicyEvents.Set set -> rules.add(set.rule());
                case PolicyEvents.Cleared cleared -> cleared.why().ifPresent(why -> skipped.merge(why, 1, Integer::sum));
            }
        }
        return new Parsed(rules, skipped);
    }

    /** What a JSON value that should have been an event is, in words. */
    private static String kindOf(JsonToken token) {
        return switch (token) {
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            default -> "null";
        };
    }

    /** Moves the parser onto the start of the array of events: the top level, or an object's {@code events}. */
    private static boolean findEvents(JsonParser parser, JsonToken top) {
        if (top == JsonToken.START_ARRAY) {
            return true;
        }
        if (top != JsonToken.START_OBJECT) {
            return false;
        }
        for (String name = parser.nextName(); name != null; name = parser.nextName()) {
            if (parser.nextToken() == JsonToken.START_ARRAY && name.equals("events")) {
                return true;
            }
            parser.skipChildren();
        }
        return false;
    }

    /** Skips the rest of the object the parser is in, up to and including its end. */
    private static void skipFields(JsonParser parser) {
        for (String name = parser.nextName(); name != null; name = parser.nextName()) {
            parser.nextToken();
            parser.skipChildren();
        }
    }

    /**
     * Reads the line format a line at a time from the bytes, every line once to check it, and hands
     * over a view that reads the rules from the bytes again each time it is walked. Decoding the whole
     * file into text and splitting it into lines first held three copies of a million-rule list at
     * once (the bytes, the text, its lines); holding its rules as objects took 160 MB more, beside
     * the rules in force while a list is replaced: more than the heap of the chart's default pod.
     */
    private static Parsed lines(byte[] utf8, int from, String source) {
        LineReader reader = new LineReader(utf8, from, source);
        int count = 0;
        while (reader.next() != null) {
            count++;
        }
        if (!reader.wroteAnything) {
            throw new EmptyListException();
        }
        return new Parsed(new Lines(utf8, from, source, count), Map.of());
    }

    /** The rules of a line-format list, read from its bytes on each walk instead of held. */
    private static final class Lines extends AbstractCollection<PolicyRule> {
        private final byte[] utf8;
        private final int from;
        private final String source;
        private final int size;

        Lines(byte[] utf8, int from, String source, int size) {
            this.utf8 = utf8;
            this.from = from;
            this.source = source;
            this.size = size;
        }

        /** In the file's order, every walk alike: the index keeps the first rule under a key. */
        @Override
        public Iterator<PolicyRule> iterator() {
            LineReader reader = new LineReader(utf8, from, source);
            return new Iterator<>() {
                private PolicyRule next = reader.next();

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public PolicyRule next() {
                    if (next == null) {
                        throw new NoSuchElementException();
                    }
                    PolicyRule rule = next;
                    next = reader.next();
                    return rule;
                }
            };
        }

        @Override
        public int size() {
            return size;
        }
    }

    /** Reads the rules of the line format one after the other; every line is decoded, comments too. */
    private static final class LineReader {
        private final byte[] utf8;
        private final String source;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input
        private int start;
        private int number;
        /** Whether a line so far held more than white space: a rule or a comment. */
        private boolean wroteAnything;

        LineReader(byte[] utf8, int from, String source) {
            this.utf8 = utf8;
            this.start = from;
            this.source = source;
        }

        /** The next rule, or null after the last line. */
        PolicyRule next() {
            while (start <= utf8.length) {
                int end = lineEnd(utf8, start);
                number++;
                try {
                    String line = stripped(decode(utf8, start, end, decoder)); // the '\r' of a CRLF too
                    start = end + 1;
                    wroteAnything |= !line.isEmpty();
                    if (!line.isEmpty() && !line.startsWith("#")) {
                        return line(line, source, number);
                    }
                } catch (IllegalArgumentException wrong) {
                    throw new IllegalArgumentException("line " + number + ": " + wrong.getMessage(), wrong);
                }
            }
            return null;
        }
    }

    /** Where the line starting at {@code start} ends: its '\n', or the end of the bytes. */
    private static int lineEnd(byte[] utf8, int start) {
        for (int i = start; i < utf8.length; i++) {
            if (utf8[i] == '\n') {
                return i;
            }
        }
        return utf8.length;
    }

    /**
     * Whether a character separates a line's words: ASCII's white space and Unicode's separators, so
     * that a no-break or em space pasted from a web page splits words as a space does, rather than
     * gluing the entity and the reason into one entity that never matches.
     */
    private static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static String stripped(String line) {
        int from = 0;
        int to = line.length();
        while (from < to && isSpace(line.charAt(from))) {
            from++;
        }
        while (to > from && isSpace(line.charAt(to - 1))) {
            to--;
        }
        return line.substring(from, to);
    }

    /** A stripped line's first three words, and the rest (the reason) as a fourth when there is one. */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>(4);
        int at = 0;
        while (at < line.length()) {
            if (words.size() == 3) {
                words.add(line.substring(at)); // the line is stripped: no space at its end
                break;
            }
            int end = at;
            while (end < line.length() && !isSpace(line.charAt(end))) {
                end++;
            }
            words.add(line.substring(at, end));
            at = end;
            while (at < line.length() && isSpace(line.charAt(at))) {
                at++;
            }
        }
        return words;
    }

    private static PolicyRule line(String line, String source, int number) {
        List<String> words = words(line);
        if (words.size() < 3) {
            throw new IllegalArgumentException("expected '<ban|takedown|allow> <user|room|server> <entity> [reason]', got '"
                    + LogText.escaped(line) + "'");
        }
        Recommendation recommendation = switch (words.get(0).toLowerCase(Locale.ROOT)) {
            case "ban" -> Recommendation.BAN;
            case "takedown" -> Recommendation.TAKEDOWN;
            case "allow" -> Recommendation.ALLOW;
            default -> throw new IllegalArgumentException("'" + LogText.escaped(words.get(0)) + "' is not ban, takedown or allow");
        };
        EntityKind kind = EntityKind.ofWireName(words.get(1).toLowerCase(Locale.ROOT)).orElseThrow(() ->
                new IllegalArgumentException("'" + LogText.escaped(words.get(1)) + "' is not user, room or server"));
        Entity entity = entity(words.get(2));
        if (entity.form() != Entity.Form.SHA256 && !kind.couldName(entity.value())) {
            throw new IllegalArgumentException("'" + LogText.escaped(words.get(2)) + "' can never match a " + kind.wireName()
                    + " rule: expected " + kind.expected());
        }
        String reason = words.size() > 3 ? words.get(3) : "";
        return new PolicyRule(kind, entity, recommendation, Shared.TEXTS.text(reason), // lists repeat a few reasons
                new PolicyRule.Origin(Shared.TEXTS.text(source), Optional.empty(), Optional.empty(), number));
    }

    /** An entity of the line format: an ID, a glob, or {@code sha256:<base64>}. */
    public static Entity entity(String word) {
        if (word.startsWith("sha256:")) {
            try {
                return Entity.sha256(word.substring("sha256:".length()));
            } catch (IllegalArgumentException invalid) {
                throw new IllegalArgumentException("'" + LogText.escaped(word) + "' is not sha256:<base64 of a SHA-256>", invalid);
            }
        }
        return Entity.of(word);
    }
}
