package dev.matrixpolicy.gateway.callbacks;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A request body as received: its bytes, its top-level fields parsed, except lists, which stay spans
 * of the bytes until a reader asks for them. A room's whole state ({@code check_event_allowed}'s
 * {@code state_events}) can be thousands of events that no module of the chain reads: the one pass
 * over the body keeps only each element's outline (its own scalar fields), which is what
 * {@linkplain #elements checks} them, and the list's tree is built when a module first asks. Any
 * other reader of a list field gets the list's tree, as before.
 */
public final class JsonBody {
    private final ObjectMapper json;
    private final byte[] bytes;
    /** The top-level fields that are not lists. */
    private final ObjectNode fields;
    /** The top-level lists: where they are in {@link #bytes}, and their elements' outlines. */
    private final Map<String, Span> lists;
    /** The whole body's tree, made when first asked for. */
    private final Once<ObjectNode> tree;

    private record Span(int offset, int length, List<JsonNode> outlines) {
    }

    private JsonBody(ObjectMapper json, byte[] bytes, ObjectNode fields, Map<String, Span> lists) {
        this.json = json;
        this.bytes = bytes;
        this.fields = fields;
        this.lists = lists;
        this.tree = new Once<>(() -> (ObjectNode) json.readTree(bytes));
    }

    /**
     * Reads the object that {@code parser} (made by {@code json} over {@code bytes}) is at the start of,
     * to its end; the parser's exceptions say what is wrong and where.
     */
    public static JsonBody read(ObjectMapper json, byte[] bytes, JsonParser parser) {
        if (!parser.hasToken(JsonToken.START_OBJECT)) {
            throw new IllegalArgumentException("the parser is not at the start of an object");
        }
        ObjectNode fields = json.createObjectNode();
        Map<String, Span> lists = new HashMap<>();
        Outlines outlines = new Outlines(json.getNodeFactory());
        for (String field = parser.nextName(); field != null; field = parser.nextName()) {
            if (parser.nextToken() == JsonToken.START_ARRAY) {
                int offset = (int) parser.currentTokenLocation().getByteOffset();
                List<JsonNode> elements = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    elements.add(outlines.of(parser));
                }
                lists.put(field, new Span(offset, (int) parser.currentLocation().getByteOffset() - offset, elements));
                fields.remove(field);
            } else {
                fields.set(field, parser.readValueAsTree());
                lists.remove(field);
            }
        }
        return new JsonBody(json, bytes, fields, Map.copyOf(lists));
    }

    /** The whole body as a tree: parsed again from the bytes on first call, so only those that need it pay for it. */
    public ObjectNode tree() {
        return tree.get();
    }

    /** A top-level field's value, as a tree; {@code null} when absent. */
    JsonNode get(String field) {
        Span list = lists.get(field);
        return list == null ? fields.get(field) : json.readTree(bytes, list.offset(), list.length());
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
     * or list in it empty. The elements' trees are made, and each turned into a {@code T} by
     * {@code kept}, when the list is first read: a list that no one reads is never made into a tree.
     */
    <T> List<T> elements(String field, ElementCheck check, Function<ObjectNode, T> kept) {
        Span span = Objects.requireNonNull(lists.get(field), field);
        for (int i = 0; i < span.outlines().size(); i++) {
            check.check(i, span.outlines().get(i));
        }
        return new LazyList<>(span.outlines().size(), new Once<>(() -> {
            ArrayNode elements = (ArrayNode) json.readTree(bytes, span.offset(), span.length());
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
                    parser.skipChildren();
                    yield emptyObject;
                }
                case START_ARRAY -> {
                    parser.skipChildren();
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
