package dev.matrixpolicy.gateway.callbacks;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A request body as received: its bytes, its top-level fields parsed, except lists and objects that
 * hold objects or lists, which stay spans of the bytes until a reader asks for them. A room's whole
 * state ({@code check_event_allowed}'s {@code state_events}) can be thousands of events that no module
 * of the chain reads, and an event's {@code content} is most of its bytes while most modules read only
 * its sender: the one pass over the body keeps only an outline of each (its own scalar fields), which
 * is what {@linkplain #elements checks} a list's elements and {@linkplain #event reads} an event, and
 * the tree is built when a module first asks. A list's outlines are handed to its check once and let go
 * of then, not kept until the answer. Any other reader of such a field gets its tree, as before.
 * A body that only Jackson's parser of characters reads (a name holding half a surrogate pair) is
 * kept as its text instead, and read the same way.
 */
public final class JsonBody {
    private final ObjectMapper json;
    private final Source source;
    /** The top-level fields that are neither lists nor objects with an object or list inside. */
    private final ObjectNode fields;
    /** The top-level lists: where they are in {@link #source}, and their elements' outlines until checked. */
    private final Map<String, Span> lists;
    /** The top-level objects with an object or list inside: their outlines, and their trees made when first asked for. */
    private final Map<String, Deferred> objects;
    /** The whole body's tree, made when first asked for. */
    private final Once<ObjectNode> tree;

    /**
     * @param outlines the elements' outlines, made by the pass that read the body, until {@link #elements}
     *                 takes them: a room's state of 1 MB in membership events has outlines of 3.2 MB,
     *                 which the request would otherwise hold until its answer
     */
    private record Span(int offset, int length, int size, AtomicReference<List<JsonNode>> outlines) {
    }

    private record Deferred(ObjectNode outline, Once<ObjectNode> tree) {
    }

    /**
     * What the body's spans are read from again, and what their offsets count: its UTF-8 bytes, or,
     * for a body only a parser of characters reads, its text.
     */
    private sealed interface Source {
        /** Where {@code location} is, in what this source counts. */
        int offset(TokenStreamLocation location);

        JsonNode read(ObjectMapper json, int offset, int length);

        /** A parser of what is from {@code offset}, {@code length} long. */
        JsonParser parser(ObjectMapper json, int offset, int length);

        int length();
    }

    private record Bytes(byte[] bytes) implements Source {
        @Override
        public int offset(TokenStreamLocation location) {
            return (int) location.getByteOffset();
        }

        @Override
        public JsonNode read(ObjectMapper json, int offset, int length) {
            return json.readTree(bytes, offset, length);
        }

        @Override
        public JsonParser parser(ObjectMapper json, int offset, int length) {
            return json.createParser(bytes, offset, length);
        }

        @Override
        public int length() {
            return bytes.length;
        }
    }

    private record Text(String text) implements Source {
        @Override
        public int offset(TokenStreamLocation location) {
            return (int) location.getCharOffset();
        }

        @Override
        public JsonNode read(ObjectMapper json, int offset, int length) {
            return json.readTree(text.substring(offset, offset + length));
        }

        @Override
        public JsonParser parser(ObjectMapper json, int offset, int length) {
            return json.createParser(text.substring(offset, offset + length));
        }

        @Override
        public int length() {
            return text.length();
        }
    }

    private JsonBody(ObjectMapper json, Source source, ObjectNode fields, Map<String, Span> lists, Map<String, Deferred> objects) {
        this.json = json;
        this.source = source;
        this.fields = fields;
        this.lists = lists;
        this.objects = objects;
        this.tree = new Once<>(() -> (ObjectNode) source.read(json, 0, source.length()));
    }

    /**
     * Reads the object that {@code parser} (made by {@code json} over {@code bytes}) is at the start of,
     * to its end; the parser's exceptions say what is wrong and where.
     */
    public static JsonBody read(ObjectMapper json, byte[] bytes, JsonParser parser) {
        return read(json, new Bytes(bytes), parser);
    }

    /**
     * Reads the object that {@code parser} (made by {@code json} over {@code text}) is at the start of,
     * as {@link #read(ObjectMapper, byte[], JsonParser)} does: for a body that a parser of characters
     * reads and the one of bytes does not (a name holding half a surrogate pair).
     */
    public static JsonBody read(ObjectMapper json, String text, JsonParser parser) {
        return read(json, new Text(text), parser);
    }

    private static JsonBody read(ObjectMapper json, Source source, JsonParser parser) {
        if (!parser.hasToken(JsonToken.START_OBJECT)) {
            throw new IllegalArgumentException("the parser is not at the start of an object");
        }
        ObjectNode fields = json.createObjectNode();
        Map<String, Span> lists = new HashMap<>();
        Map<String, Deferred> objects = new HashMap<>();
        Outlines outlines = new Outlines(json.getNodeFactory());
        for (String field = parser.nextName(); field != null; field = parser.nextName()) {
            JsonToken token = parser.nextToken();
            // a field sent twice is read as its last value, as a tree of the whole body would have it
            fields.remove(field);
            lists.remove(field);
            objects.remove(field);
            if (token == JsonToken.START_ARRAY) {
                int offset = source.offset(parser.currentTokenLocation());
                List<JsonNode> elements = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    elements.add(outlines.of(parser));
                }
                lists.put(field, new Span(offset, source.offset(parser.currentLocation()) - offset, elements.size(),
                        new AtomicReference<>(elements)));
            } else if (token == JsonToken.START_OBJECT) {
                int offset = source.offset(parser.currentTokenLocation());
                int skippedBefore = outlines.skipped;
                ObjectNode outline = (ObjectNode) outlines.of(parser);
                if (outlines.skipped == skippedBefore) {
                    fields.set(field, outline); // nothing left out: the outline is the object's tree
                } else {
                    int length = source.offset(parser.currentLocation()) - offset;
                    objects.put(field, new Deferred(outline,
                            new Once<>(() -> (ObjectNode) source.read(json, offset, length))));
                }
            } else {
                fields.set(field, outlines.of(parser));
            }
        }
        return new JsonBody(json, source, fields, Map.copyOf(lists), Map.copyOf(objects));
    }

    /**
     * Skips what is inside the object or list the parser is at the start of, to its end, reading each
     * decimal as the tree will ({@link java.math.BigDecimal}): a number that no tree can hold
     * ({@code 1e99999999999}) is refused by the one pass over the body, the parser's
     * {@link NumberFormatException}, not later when a module first asks for the tree.
     */
    public static void skipChildren(JsonParser parser) {
        for (int depth = 1; depth > 0; ) {
            JsonToken token = parser.nextToken();
            if (token.isStructStart()) {
                depth++;
            } else if (token.isStructEnd()) {
                depth--;
            } else if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                parser.getDecimalValue();
            }
        }
    }

    /** The whole body as a tree: parsed again from the bytes on first call, so only those that need it pay for it. */
    public ObjectNode tree() {
        return tree.get();
    }

    /**
     * The body without its lists, each object with an object or list inside as its outline (its own
     * scalar fields, every object or list in it empty): what the one pass read, for a reader of top-level
     * fields and their objects' scalars only, such as the decision log's IDs, which must not make a
     * room's whole state into a tree to log a refusal. Its nodes are shared: read it, never change it.
     */
    public ObjectNode outline() {
        ObjectNode outline = json.createObjectNode();
        outline.setAll(fields);
        objects.forEach((field, object) -> outline.set(field, object.outline()));
        return outline;
    }

    /** A top-level field's value, as a tree; {@code null} when absent. */
    JsonNode get(String field) {
        Deferred object = objects.get(field);
        if (object != null) {
            return object.tree().get();
        }
        Span list = lists.get(field);
        return list == null ? fields.get(field) : source.read(json, list.offset(), list.length());
    }

    /**
     * A top-level object field as an event, whose tree is made when first asked for; {@code null} when
     * the field is not an object with an object or list inside (then {@link #get} has its whole tree).
     *
     * @param check checks the event's outline: its scalar fields as sent, and every object or list in it empty
     */
    ClientEvent event(String field, Consumer<ObjectNode> check) {
        Deferred object = objects.get(field);
        if (object == null) {
            return null;
        }
        check.accept(object.outline());
        return new ClientEvent(object.outline(), object.tree());
    }

    /** Whether a top-level field is a list that is still only bytes. */
    boolean isList(String field) {
        return lists.containsKey(field);
    }

    /** Checks a list's element, given its index and its outline. */
    @FunctionalInterface
    interface ElementCheck {
        void check(int index, JsonNode outline);
    }

    /**
     * The elements of a top-level list, checked without building their trees. {@code check} gets each
     * element's outline: a scalar as is; an object with its scalar fields as they are and every object
     * or list in it empty. The outlines the body's reading made are let go of once checked; a second
     * call, if any, makes them again from the list's bytes, one at a time. The elements' trees are made, and each turned into a
     * {@code T} by {@code kept}, when the list is first read: a list that no one reads is never made into a tree.
     */
    <T> List<T> elements(String field, ElementCheck check, Function<ObjectNode, T> kept) {
        Span span = Objects.requireNonNull(lists.get(field), field);
        List<JsonNode> outlines = span.outlines().getAndSet(null);
        if (outlines != null) {
            for (int i = 0; i < outlines.size(); i++) {
                check.check(i, outlines.get(i));
            }
        } else {
            try (JsonParser parser = source.parser(json, span.offset(), span.length())) {
                parser.nextToken(); // the list's start
                Outlines made = new Outlines(json.getNodeFactory());
                for (int i = 0; parser.nextToken() != JsonToken.END_ARRAY; i++) {
                    check.check(i, made.of(parser));
                }
            }
        }
        return new LazyList<>(span.size(), new Once<>(() -> {
            ArrayNode elements = (ArrayNode) source.read(json, span.offset(), span.length());
            List<T> made = new ArrayList<>(elements.size());
            elements.values().forEach(element -> made.add(kept.apply((ObjectNode) element)));
            return List.copyOf(made);
        }));
    }

    /** Outlines of a list's elements, whose objects and lists are all one shared empty object and list. */
    private static final class Outlines {
        private final JsonNodeFactory nodes;
        private final ObjectNode emptyObject;
        private final ArrayNode emptyList;
        /** How many objects and lists the outlines made so far have left out. */
        int skipped;

        Outlines(JsonNodeFactory nodes) {
            this.nodes = nodes;
            this.emptyObject = nodes.objectNode();
            this.emptyList = nodes.arrayNode();
        }

        JsonNode of(JsonParser parser) {
            if (!parser.hasToken(JsonToken.START_OBJECT)) {
                return value(parser);
            }
            ObjectNode element = nodes.objectNode();
            for (String name = parser.nextName(); name != null; name = parser.nextName()) {
                parser.nextToken();
                element.set(name, value(parser));
            }
            return element;
        }

        private JsonNode value(JsonParser parser) {
            return switch (parser.currentToken()) {
                case START_OBJECT -> {
                    skipChildren(parser);
                    skipped++;
                    yield emptyObject;
                }
                case START_ARRAY -> {
                    skipChildren(parser);
                    skipped++;
                    yield emptyList;
                }
                // Made here rather than by the mapper, which would set up a reading context for each value.
                case VALUE_STRING -> nodes.stringNode(parser.getString());
                case VALUE_NULL -> nodes.nullNode();
                case VALUE_TRUE, VALUE_FALSE -> nodes.booleanNode(parser.getBooleanValue());
                case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                    case INT -> nodes.numberNode(parser.getIntValue());
                    case LONG -> nodes.numberNode(parser.getLongValue());
                    default -> nodes.numberNode(parser.getBigIntegerValue());
                };
                default -> parser.readValueAsTree();
            };
        }
    }

    /** A value made by the first thread that asks for it, then kept; safe to share between threads. */
    private static final class Once<T> implements Supplier<T> {
        private final Supplier<T> make;
        private volatile T made;

        Once(Supplier<T> make) {
            this.make = make;
        }

        @Override
        public T get() {
            T value = made;
            if (value == null) {
                synchronized (this) {
                    value = made;
                    if (value == null) {
                        value = make.get();
                        made = value;
                    }
                }
            }
            return value;
        }
    }

    /** A list of a known size whose elements are made, once, when first needed; safe to share between threads. */
    private static final class LazyList<T> extends AbstractList<T> {
        private final int size;
        private final Once<List<T>> elements;

        LazyList(int size, Once<List<T>> elements) {
            this.size = size;
            this.elements = elements;
        }

        @Override
        public T get(int index) {
            return elements.get().get(index);
        }

        @Override
        public int size() {
            return size;
        }
    }
}
