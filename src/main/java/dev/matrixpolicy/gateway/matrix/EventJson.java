package dev.matrixpolicy.gateway.matrix;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamWriteConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.ser.std.StdSerializer;

/**
 * JSON as far as a Matrix event can take it. Synapse accepts any event under 64 KiB, and what its
 * Python reads and writes is bounded by the interpreter, not by the spec: about 1,000 levels of
 * nesting on Python 3.11, thousands on 3.13, and on 3.14, whose guard measures the stack, as deep
 * as 64 KiB of brackets go; older room versions take integers of any length, and a key may be as
 * long as the event. Jackson's own limits (500 levels, numbers of 1,000 digits, names of 50,000
 * characters) would refuse such an event, and a homeserver told that its question is malformed
 * goes on as its failure policy says: where that is to fail open (synapse-http-antispam's default
 * for {@code check_event_for_spam}), a kilobyte of brackets would let any message past every rule.
 *
 * <p>So nothing here refuses what an event can hold, and nothing here recurses into a tree: Jackson
 * builds trees iteratively, and {@link #walk} visits one with a stack of its own, on which
 * {@link #copy}, {@link #equal} and the policy server's canonical form are built, and the writer of
 * {@link #module()} below a few hundred levels. A tree nested 60,000 deep costs heap, never thread stack.
 */
public final class EventJson {
    /** Synapse's limit on an event's size, in bytes: no name, number or nesting in an event goes beyond it. */
    public static final int EVENT_BYTES = 65_536;

    /** The default mapper with these limits and this writer. */
    public static final JsonMapper MAPPER = mapper().build();

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private EventJson() {
    }

    /** Reading limits no event goes beyond: names, nesting and numbers up to {@link #EVENT_BYTES}. */
    public static StreamReadConstraints.Builder readLimits() {
        return StreamReadConstraints.builder()
                .maxNameLength(EVENT_BYTES)
                .maxNestingDepth(EVENT_BYTES)
                .maxNumberLength(EVENT_BYTES);
    }

    /** Writing limits to match: whatever was read can be written again. */
    public static StreamWriteConstraints writeLimits() {
        return StreamWriteConstraints.builder().maxNestingDepth(EVENT_BYTES).build();
    }

    /** The writer of trees that uses no thread stack per level, for a mapper of Spring's or one's own. */
    public static JacksonModule module() {
        return new SimpleModule("event-json").addSerializer(JsonNode.class, new TreeWriter());
    }

    /** A mapper builder with {@link #readLimits()}, {@link #writeLimits()} and {@link #module()}. */
    public static JsonMapper.Builder mapper() {
        return mapper(readLimits().build());
    }

    /**
     * As {@link #mapper()}, with reading limits of the caller's (tighter ones, say, on strings). Its
     * parsers keep the names they read for about a mebibyte of documents ({@link BoundedNames}).
     */
    public static JsonMapper.Builder mapper(StreamReadConstraints read) {
        return JsonMapper.builder(BoundedNames.of(JsonFactory.builder().streamReadConstraints(read).streamWriteConstraints(writeLimits())))
                .addModule(module());
    }

    /** Whether the event is a room's {@code m.room.create}: that type, and an empty {@code state_key}. */
    public static boolean isCreateEvent(JsonNode event) {
        JsonNode type = event.get("type");
        JsonNode stateKey = event.get("state_key");
        return type != null && type.isString() && type.stringValue().equals("m.room.create")
                && stateKey != null && stateKey.isString() && stateKey.stringValue().isEmpty();
    }

    /** A deep copy of {@code tree}, made without recursion (Jackson's {@code deepCopy} recurses). */
    @SuppressWarnings("unchecked") // a copy has the class of its original
    public static <T extends JsonNode> T copy(T tree) {
        Copier copier = new Copier();
        walk(tree, copier);
        return (T) copier.root;
    }

    /**
     * Whether two trees are equal as {@link JsonNode#equals} says (an object's members in any order,
     * numbers as their nodes compare), compared without recursion.
     */
    public static boolean equal(JsonNode a, JsonNode b) {
        Deque<JsonNode> pairs = new ArrayDeque<>();
        pairs.push(b);
        pairs.push(a);
        while (!pairs.isEmpty()) {
            JsonNode left = pairs.pop();
            JsonNode right = pairs.pop();
            if (left.isObject() && right.isObject()) {
                if (left.size() != right.size()) {
                    return false;
                }
                for (Map.Entry<String, JsonNode> member : left.properties()) {
                    JsonNode other = right.get(member.getKey());
                    if (other == null) {
                        return false;
                    }
                    pairs.push(other);
                    pairs.push(member.getValue());
                }
            } else if (left.isArray() && right.isArray()) {
                if (left.size() != right.size()) {
                    return false;
                }
                for (int i = 0; i < left.size(); i++) {
                    pairs.push(right.get(i));
                    pairs.push(left.get(i));
                }
            } else if (left.isContainer() || right.isContainer() || !left.equals(right)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether every name and string in {@code tree} has a UTF-8 form: none holds half a character (a
     * lone surrogate), which a JSON escape can carry, but which a homeserver can neither store nor
     * send on.
     */
    public static boolean hasUtf8Form(JsonNode tree) {
        boolean[] whole = {true};
        walk(tree, new Visitor() {
            @Override
            public void open(String name, boolean first, JsonNode container) {
                whole[0] &= name == null || hasUtf8Form(name);
            }

            @Override
            public void value(String name, boolean first, JsonNode value) {
                whole[0] &= (name == null || hasUtf8Form(name)) && (!value.isString() || hasUtf8Form(value.stringValue()));
            }

            @Override
            public void close(JsonNode container) {
            }
        });
        return whole[0];
    }

    /**
     * Whether {@code text} holds no half of a surrogate pair, so has a UTF-8 form. Every ID of a
     * request is checked so (200 in a room's state of 50 events): a character that is no surrogate,
     * nearly every one, is passed by one test (half the time of testing for a high surrogate first).
     */
    public static boolean hasUtf8Form(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!Character.isSurrogate(c)) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else {
                return false;
            }
        }
        return true;
    }

    /** What {@link #walk} meets, in document order. */
    public interface Visitor {
        /**
         * An object or an array begins.
         *
         * @param name its name in the object that holds it; null in an array, and for the root
         * @param first whether it comes first in what holds it (true for the root)
         */
        void open(String name, boolean first, JsonNode container);

        /** A string, number, boolean or null; {@code name} and {@code first} as for {@link #open}. */
        void value(String name, boolean first, JsonNode value);

        /** The object or array last opened and not yet closed ends. */
        void close(JsonNode container);

        /** The order in which an object's members are visited: as it holds them, unless a visitor says otherwise. */
        default Iterable<Map.Entry<String, JsonNode>> members(ObjectNode object) {
            return object.properties();
        }
    }

    /** Visits {@code tree} depth first, with a stack on the heap. */
    public static void walk(JsonNode tree, Visitor visitor) {
        Deque<Open> stack = new ArrayDeque<>();
        visit(null, true, tree, visitor, stack);
        while (!stack.isEmpty()) {
            Open top = stack.peek();
            if (!top.rest.hasNext()) {
                stack.pop();
                visitor.close(top.container);
                continue;
            }
            boolean first = top.first;
            top.first = false;
            if (top.container.isObject()) {
                @SuppressWarnings("unchecked") // an object's iterator, from members()
                Map.Entry<String, JsonNode> member = (Map.Entry<String, JsonNode>) top.rest.next();
                visit(member.getKey(), first, member.getValue(), visitor, stack);
            } else {
                visit(null, first, (JsonNode) top.rest.next(), visitor, stack);
            }
        }
    }

    private static void visit(String name, boolean first, JsonNode node, Visitor visitor, Deque<Open> stack) {
        if (node.isObject()) {
            visitor.open(name, first, node);
            stack.push(new Open(node, visitor.members((ObjectNode) node).iterator()));
        } else if (node.isArray()) {
            visitor.open(name, first, node);
            stack.push(new Open(node, node.values().iterator()));
        } else {
            visitor.value(name, first, node);
        }
    }

    /** An object or array being visited, and what of it is left. */
    private static final class Open {
        final JsonNode container;
        final Iterator<?> rest;
        boolean first = true;

        Open(JsonNode container, Iterator<?> rest) {
            this.container = container;
            this.rest = rest;
        }
    }

    /** Builds the copy as the walk goes: each container made is put in the one that holds it. */
    private static final class Copier implements Visitor {
        private final Deque<JsonNode> made = new ArrayDeque<>();
        private JsonNode root;

        @Override
        public void open(String name, boolean first, JsonNode container) {
            JsonNode copy = container.isObject() ? NODES.objectNode() : NODES.arrayNode(container.size());
            put(name, copy);
            made.push(copy);
        }

        @Override
        public void value(String name, boolean first, JsonNode value) {
            put(name, value); // strings, numbers, booleans and null are never changed in place
        }

        @Override
        public void close(JsonNode container) {
            made.pop();
        }

        private void put(String name, JsonNode node) {
            JsonNode holder = made.peek();
            if (holder == null) {
                root = node;
            } else if (holder instanceof ObjectNode object) {
                object.set(name, node);
            } else {
                ((ArrayNode) holder).add(node);
            }
        }
    }

    /**
     * Writes a tree in place of Jackson's writer, which recurses at every level: it recurses too, as
     * fast, down to {@link #RECURSION_LIMIT} levels, and writes anything deeper from a {@link #walk}.
     */
    private static final class TreeWriter extends StdSerializer<JsonNode> {
        /**
         * Levels written by recursion, a few hundred bytes of stack each: far below any thread's limit,
         * and deeper than any event but a hostile one nests.
         */
        private static final int RECURSION_LIMIT = 256;

        TreeWriter() {
            super(JsonNode.class);
        }

        @Override
        public void serialize(JsonNode tree, JsonGenerator generator, SerializationContext context) {
            write(null, tree, generator, context, 0);
        }

        private static void write(String name, JsonNode node, JsonGenerator generator, SerializationContext context, int depth) {
            if (!node.isContainer()) {
                Tokens.value(generator, context, name, node);
            } else if (depth == RECURSION_LIMIT) {
                Tokens.name(generator, name);
                walk(node, new Tokens(generator, context));
            } else {
                Tokens.open(generator, name, node);
                if (node.isObject()) {
                    for (Map.Entry<String, JsonNode> member : node.properties()) {
                        write(member.getKey(), member.getValue(), generator, context, depth + 1);
                    }
                } else {
                    for (JsonNode element : node.values()) {
                        write(null, element, generator, context, depth + 1);
                    }
                }
                Tokens.close(generator, node);
            }
        }
    }

    /**
     * A tree's tokens, written as the recursion of {@link TreeWriter} meets them (by the static
     * methods, which allocate nothing), or a walk does (by an instance).
     */
    private record Tokens(JsonGenerator generator, SerializationContext context) implements Visitor {
        @Override
        public void open(String name, boolean first, JsonNode container) {
            open(generator, name, container);
        }

        @Override
        public void value(String name, boolean first, JsonNode value) {
            value(generator, context, name, value);
        }

        @Override
        public void close(JsonNode container) {
            close(generator, container);
        }

        static void open(JsonGenerator generator, String name, JsonNode container) {
            name(generator, name);
            if (container.isObject()) {
                generator.writeStartObject(container);
            } else {
                generator.writeStartArray(container, container.size());
            }
        }

        static void value(JsonGenerator generator, SerializationContext context, String name, JsonNode value) {
            name(generator, name);
            value.serialize(generator, context);
        }

        static void close(JsonGenerator generator, JsonNode container) {
            if (container.isObject()) {
                generator.writeEndObject();
            } else {
                generator.writeEndArray();
            }
        }

        /** The member's name, in an object; nothing in an array or for the root. */
        static void name(JsonGenerator generator, String name) {
            if (name != null) {
                generator.writeName(name);
            }
        }
    }
}
