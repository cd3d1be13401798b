package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException.Kind;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Typed, validating access to the JSON object that carries a callback's arguments. Field names are
 * Synapse's Python parameter names. A required field that is absent or {@code null} is
 * {@link Kind#MISSING}; a field of the wrong type or grammar is {@link Kind#INVALID}. Unknown fields
 * are ignored, so a newer homeserver that sends more arguments is still understood.
 *
 * <p>Each accessor also says what its field is in JSON Schema terms, so a callback's reader is the
 * one description of its arguments: {@link #describe} runs a reader on values that pass every check
 * and collects the schema of the fields it asked for, with a valid example body.
 */
public final class JsonArgs {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Supplier<String> TOP = () -> "";

    /** The object read; null when reading a {@link #body}. */
    private final ObjectNode json;
    /** The request body, whose lists are read when asked for; null for a tree and for nested objects. */
    private final JsonBody body;
    /** What the names of this object's fields start with in messages ("" at the top); worked out only for a message. */
    private final Supplier<String> path;
    /** Null when reading a request; when describing, the schema of this object, filled in field by field. */
    private final ObjectNode schema;

    private JsonArgs(ObjectNode json, JsonBody body, Supplier<String> path, ObjectNode schema) {
        this.json = json;
        this.body = body;
        this.path = path;
        this.schema = schema;
    }

    private JsonArgs(ObjectNode json, Supplier<String> path, ObjectNode schema) {
        this(json, null, path, schema);
    }

    public static JsonArgs of(ObjectNode json) {
        return new JsonArgs(json, TOP, null);
    }

    /** A request body's arguments: its lists of objects are checked by a streaming pass, and their trees made when first read. */
    public static JsonArgs of(JsonBody body) {
        return new JsonArgs(null, body, TOP, null);
    }

    /**
     * A reader's arguments as a JSON Schema of an object (properties in the order the reader asks for
     * them; absent or {@code null} optional fields typed as also {@code null}), and an example body
     * that the reader accepts.
     *
     * @param schema  the JSON Schema (draft 2020-12, as OpenAPI 3.1 uses)
     * @param example a body with every required field, each a value that passes its checks
     */
    public record Description(ObjectNode schema, ObjectNode example) {
    }

    /** Describes the arguments {@code reader} reads, by running it on values made to pass its checks. */
    public static Description describe(Function<JsonArgs, ?> reader) {
        ObjectNode schema = objectSchema();
        ObjectNode example = JSON.objectNode();
        reader.apply(new JsonArgs(example, TOP, schema));
        return new Description(schema, example);
    }

    // ---- scalars

    public String string(String field) {
        return requireString(field, required(field, Type.STRING));
    }

    public Optional<String> optionalString(String field) {
        return optional(field, Type.STRING).map(node -> requireString(field, node));
    }

    /**
     * Whether {@code field} holds the string {@code value}: for a switch a client may add, which any
     * other value, of any type, or none leaves off rather than refuses, as a gateway older than the
     * switch ignores it.
     */
    public boolean holds(String field, String value) {
        JsonNode node = schema == null ? get(field) : null;
        return node != null && node.isString() && node.stringValue().equals(value);
    }

    public boolean bool(String field) {
        return requireBoolean(field, required(field, Type.BOOLEAN));
    }

    /** A boolean that older homeservers may not send. */
    public boolean bool(String field, boolean whenAbsent) {
        return optional(field, schema == null ? null : Type.BOOLEAN.withDefault(JSON.booleanNode(whenAbsent)))
                .map(node -> requireBoolean(field, node)).orElse(whenAbsent);
    }

    public long integer(String field) {
        return requireInteger(field, required(field, Type.INTEGER));
    }

    /** A count or a size in bytes: an integer of 0 or more. */
    public long count(String field) {
        return atLeast(field, 0);
    }

    /** Synapse's {@code MediaUploadLimit}: {@code {"max_bytes": ..., "time_period_ms": ...}}. */
    public MediaUploadLimit mediaUploadLimit(String field) {
        JsonArgs limit = nested(field);
        return new MediaUploadLimit(limit.count("max_bytes"), limit.count("time_period_ms"));
    }

    /** One of a fixed set of strings, e.g. a room visibility. */
    public String oneOf(String field, List<String> allowed) {
        String value = requireString(field, required(field, schema == null ? null : Type.oneOf(allowed)));
        if (!allowed.contains(value)) {
            throw invalid(field, "must be one of " + allowed);
        }
        return value;
    }

    /** A SHA-256 hash written as 64 lower-case hex digits. */
    public String sha256(String field) {
        String value = requireString(field, required(field, Type.SHA256));
        if (value.length() != 64 || !value.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw invalid(field, "must be 64 lower-case hex digits");
        }
        return value;
    }

    // ---- Matrix identifiers

    public String userId(String field) {
        return identifier(field, required(field, Type.USER_ID), MatrixIds::userIdAsSynapseTakesIt);
    }

    public Optional<String> optionalUserId(String field) {
        return optional(field, Type.USER_ID).map(node -> identifier(field, node, MatrixIds::userIdAsSynapseTakesIt));
    }

    public String roomId(String field) {
        return identifier(field, required(field, Type.ROOM_ID), MatrixIds::roomIdAsSynapseTakesIt);
    }

    public Optional<String> optionalRoomId(String field) {
        return optional(field, Type.ROOM_ID).map(node -> identifier(field, node, MatrixIds::roomIdAsSynapseTakesIt));
    }

    /**
     * A room ID that Synapse asks about before it checks it: the one a client wrote in its request's
     * path ({@code /rooms/{roomId}/join}, {@code /invite}, {@code /state/...}, {@code
     * /directory/list/room/{roomId}}), percent-decoded, whatever it holds. Any string is read as it
     * came, so a client's typo gets the answer Synapse gives it once the modules have had their say
     * (no such room), rather than the 400 that a homeserver module takes as the gateway failing
     * (503, or a yes where it fails open). A module sees text that names no room and matches no rule
     * of a room; the other argument checks stand.
     */
    public String requestedRoomId(String field) {
        return requireString(field, required(field, Type.REQUESTED_ROOM_ID));
    }

    public String roomAlias(String field) {
        return identifier(field, required(field, Type.ROOM_ALIAS), MatrixIds::roomAliasAsSynapseTakesIt);
    }

    // ---- structures

    public ObjectNode object(String field) {
        return requireObject(field, required(field, Type.OBJECT));
    }

    public Optional<ObjectNode> optionalObject(String field) {
        return optional(field, Type.OBJECT).map(node -> requireObject(field, node));
    }

    /** Arguments nested in an object field, e.g. {@code user_profile}. */
    public JsonArgs nested(String field) {
        return nested(field, object(field));
    }

    private JsonArgs nested(String field, ObjectNode object) {
        return new JsonArgs(object, () -> qualified(field) + ".", schema == null ? null : (ObjectNode) properties().get(field));
    }

    /**
     * An event in client format; {@code event_id}, {@code sender}, {@code room_id} and {@code type} are
     * validated. In a request body, they are read from the body's one pass, and the event's tree is
     * made when a module first reads more of it.
     */
    public ClientEvent event(String field) {
        ClientEvent outlined = body == null ? null : body.event(field, outline -> nested(field, outline).checkEvent(false));
        if (outlined != null) {
            return outlined;
        }
        JsonArgs event = nested(field);
        event.checkEvent(false);
        return new ClientEvent(event.json);
    }

    /**
     * A room's state as a list of client-format state events (the JSON form of a {@code StateMap}).
     * In a request body, each event is checked as it streams past; the events' trees are made when a
     * module first reads the list.
     */
    public List<ClientEvent> stateEvents(String field) {
        return objects(field, Type.STATE_EVENTS, event -> event.checkEvent(true), ClientEvent::new);
    }

    /** Synapse's {@code Collection[Tuple[user_agent, ip]]}, as a list of two-element lists. */
    public List<RequestInfo> requestInfo(String field) {
        JsonNode node = required(field, Type.REQUEST_INFO);
        if (!node.isArray()) {
            throw invalid(field, "must be a list of [user_agent, ip] pairs");
        }
        List<RequestInfo> pairs = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode pair = node.get(i);
            if (!pair.isArray() || pair.size() != 2 || !(pair.get(0).isString() || pair.get(0).isNull())
                    || !pair.get(1).isString()) {
                throw invalid(field + "[" + i + "]", "must be a [user_agent, ip] pair of strings (user_agent may be null)");
            }
            pairs.add(new RequestInfo(pair.get(0).isNull() ? Optional.empty() : Optional.of(pair.get(0).stringValue()),
                    pair.get(1).stringValue()));
        }
        return List.copyOf(pairs);
    }

    /** A list of JSON values, as sent; see {@link #element} and {@link #objects} for lists of objects. */
    public List<JsonNode> array(String field) {
        JsonNode node = required(field, Type.LIST);
        if (!node.isArray()) {
            throw invalid(field, "must be a list");
        }
        List<JsonNode> elements = new ArrayList<>(node.size());
        node.values().forEach(elements::add);
        return elements;
    }

    /** Reads an element of a list as arguments in their own right, e.g. one presence state. */
    public JsonArgs element(String field, int index, JsonNode element) {
        // The element's name is made only for a message: a room's state has thousands of elements.
        ObjectNode object = element instanceof ObjectNode valid ? valid : requireObject(field + "[" + index + "]", element);
        return new JsonArgs(object, () -> qualified(field + "[" + index + "]") + ".", schema == null ? null : items(field));
    }

    /**
     * A list of JSON objects, each checked by {@code check} and kept as sent, e.g. presence states.
     * {@code check} reads the element's own fields; an object or list in one of them is there, but
     * empty, when the list is checked as it streams past.
     */
    public List<ObjectNode> objects(String field, Consumer<JsonArgs> check) {
        return objects(field, Type.LIST, check, UnaryOperator.identity());
    }

    // ---- plumbing

    /**
     * Every element of a list field, checked as arguments of its own (named by its index in error
     * messages) and kept as {@code kept} makes it from the element's JSON. A list still in the request
     * body's bytes is checked in one streaming pass, on each element's outline.
     */
    private <T> List<T> objects(String field, Type type, Consumer<JsonArgs> check, Function<ObjectNode, T> kept) {
        if (body != null && body.isList(field)) {
            return body.elements(field, (index, outline) -> check.accept(element(field, index, outline)), kept);
        }
        JsonNode node = required(field, type);
        if (!node.isArray()) {
            throw invalid(field, type.problem());
        }
        List<T> elements = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonArgs element = element(field, i, node.get(i));
            check.accept(element);
            elements.add(kept.apply(element.json));
        }
        return List.copyOf(elements);
    }

    private void checkEvent(boolean stateEvent) {
        describedAs(stateEvent ? "A state event in client format" : "An event in client format, with its event_id");
        identifier("event_id", required("event_id", Type.EVENT_ID), MatrixIds::eventIdAsSynapseTakesIt);
        userId("sender");
        if (schema != null) {
            describeEventRoom();
        } else if (ClientEvent.roomItMakes(json).isEmpty()) {
            roomId("room_id");
        }
        string("type");
        optionalObject("content");
        if (stateEvent) {
            stateKey();
        }
    }

    /**
     * An event's {@code room_id}: a room ID, required of every event but a room version 12 create
     * event ({@link ClientEvent#roomItMakes}): the schema requires one or the other; never
     * {@code null}. The example is an event of a room, and names it.
     */
    private void describeEventRoom() {
        properties().set("room_id", Type.EVENT_ROOM_ID.schema().deepCopy());
        json.set("room_id", Type.EVENT_ROOM_ID.example().deepCopy());
        ArrayNode either = schema.putArray("anyOf");
        either.addObject().putArray("required").add("room_id");
        ObjectNode v12Create = either.addObject();
        v12Create.putArray("required").add("type").add("state_key").add("event_id");
        ObjectNode fields = v12Create.putObject("properties");
        fields.putObject("type").put("const", "m.room.create");
        fields.putObject("state_key").put("const", "");
        fields.putObject("event_id").put("pattern", "^\\$[A-Za-z0-9_-]{43}$");
    }

    private void stateKey() {
        JsonNode stateKey = schema != null ? describeField("state_key", Type.STRING, true) : get("state_key");
        if (stateKey == null || !stateKey.isString()) {
            throw invalid("state_key", "state events need a string state_key");
        }
    }

    /**
     * A field that must be present and not {@code null}.
     *
     * @param type what the field is, for describing; {@code null} will do when reading
     */
    private JsonNode required(String field, Type type) {
        if (schema != null) {
            return describeField(field, type, true);
        }
        JsonNode node = get(field);
        if (node == null || node.isNull()) {
            throw new BadArgumentException(Kind.MISSING, qualified(field), "missing required field '" + qualified(field) + "'");
        }
        return node;
    }

    private Optional<JsonNode> optional(String field, Type type) {
        if (schema != null) {
            describeField(field, type, false);
            return Optional.empty();
        }
        JsonNode node = get(field);
        return node == null || node.isNull() ? Optional.empty() : Optional.of(node);
    }

    /** A field's value as sent; {@code null} when absent. */
    private JsonNode get(String field) {
        return body == null ? json.get(field) : body.get(field);
    }

    private long atLeast(String field, long minimum) {
        long value = requireInteger(field, required(field, schema == null ? null : Type.integerAtLeast(minimum)));
        if (value < minimum) {
            throw invalid(field, minimum == 0 ? "must be 0 or more" : "must be at least " + minimum);
        }
        return value;
    }

    private String requireString(String field, JsonNode node) {
        if (!node.isString()) {
            throw invalid(field, "must be a string");
        }
        return node.stringValue();
    }

    private boolean requireBoolean(String field, JsonNode node) {
        if (!node.isBoolean()) {
            throw invalid(field, "must be a boolean");
        }
        return node.booleanValue();
    }

    private long requireInteger(String field, JsonNode node) {
        if (!node.isIntegralNumber()) {
            throw invalid(field, "must be an integer");
        }
        if (!node.canConvertToLong()) { // Synapse's own integers are 64-bit: its database columns, its arithmetic
            throw invalid(field, "must be an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE);
        }
        return node.longValue();
    }

    private ObjectNode requireObject(String field, JsonNode node) {
        if (!(node instanceof ObjectNode object)) {
            throw invalid(field, "must be a JSON object");
        }
        return object;
    }

    private String identifier(String field, JsonNode node, UnaryOperator<String> grammar) {
        String value = requireString(field, node);
        try {
            return grammar.apply(value);
        } catch (IllegalArgumentException wrong) {
            throw invalid(field, "is " + wrong.getMessage());
        }
    }

    private BadArgumentException invalid(String field, String problem) {
        return new BadArgumentException(Kind.INVALID, qualified(field), "'" + qualified(field) + "' " + problem);
    }

    private String qualified(String field) {
        return path.get() + field;
    }

    // ---- describing

    /**
     * Records a field in the schema and, when it is required, puts a value that passes its checks
     * into the example, which is what the reader then reads; an optional field stays absent.
     */
    private JsonNode describeField(String field, Type type, boolean required) {
        ObjectNode property = type.schema().deepCopy();
        if (!required) {
            property.set("type", JSON.arrayNode().add(property.get("type")).add("null"));
        }
        properties().set(field, property);
        if (!required) {
            return null;
        }
        ArrayNode requiredFields = schema.has("required") ? (ArrayNode) schema.get("required") : schema.putArray("required");
        requiredFields.add(field);
        JsonNode example = type.example().deepCopy();
        json.set(field, example);
        return example;
    }

    private void describedAs(String description) {
        if (schema != null) {
            schema.put("description", description);
        }
    }

    private ObjectNode properties() {
        return schema.has("properties") ? (ObjectNode) schema.get("properties") : schema.putObject("properties");
    }

    /** The schema of a list field's elements, which its first element's reader fills in. */
    private ObjectNode items(String field) {
        ObjectNode list = (ObjectNode) properties().get(field);
        if (list.get("items") instanceof ObjectNode items) {
            return items;
        }
        ObjectNode items = objectSchema();
        list.set("items", items);
        return items;
    }

    private static ObjectNode objectSchema() {
        return JSON.objectNode().put("type", "object");
    }

    /**
     * What a field is in JSON Schema terms, and an example value that passes its checks.
     *
     * @param problem for lists, what the error says when the value is not one
     */
    private record Type(ObjectNode schema, JsonNode example, String problem) {
        /** A server name as Synapse reads one in an ID: a DNS name or IPv4 literal, or an IPv6 one, and a port padded with zeros or not. */
        private static final String SERVER_NAME_PATTERN = "(?:\\[[0-9A-Fa-f:.]{2,45}\\]|[A-Za-z0-9.-]{1,255})(?::0*[0-9]{1,5})?$";
        private static final String USER_ID_PATTERN = "^@[^:]*:";
        private static final String ROOM_ID_PATTERN = "^!(?:[A-Za-z0-9_-]{43}$|[^:]*:" + SERVER_NAME_PATTERN + ")";
        static final Type STRING = scalar("string", JSON.stringNode(""));
        static final Type BOOLEAN = scalar("boolean", JSON.booleanNode(false));
        static final Type INTEGER = scalar("integer", JSON.numberNode(0));
        static final Type OBJECT = scalar("object", JSON.objectNode());
        static final Type USER_ID = id("A Matrix user ID, as Synapse takes one: @, then text with a ':' in it",
                "@alice:example.com", USER_ID_PATTERN);
        static final Type ROOM_ID = id("A Matrix room ID, as Synapse takes one: !, an opaque part and a server name,"
                + " or ! and 43 URL-safe base64 characters; at most 255 bytes of UTF-8", "!room:example.com", ROOM_ID_PATTERN)
                .atMost(MatrixIds.MAX_ID_BYTES);
        static final Type REQUESTED_ROOM_ID = text("A room ID as the client wrote it, not yet checked by Synapse: any string",
                "!room:example.com");
        static final Type EVENT_ROOM_ID = id("A Matrix room ID, as Synapse takes one; absent only from a room version 12 create event"
                + " (m.room.create, state_key \"\", event ID $ and 43 URL-safe base64 characters), which is about"
                + " the room !<those characters>", "!room:example.com", ROOM_ID_PATTERN).atMost(MatrixIds.MAX_ID_BYTES);
        static final Type ROOM_ALIAS = id("A Matrix room alias, as Synapse takes one: #, a localpart without ':'"
                + " and a server name; at most 255 characters", "#room:example.com", "^#[^:]*:" + SERVER_NAME_PATTERN)
                .atMost(MatrixIds.MAX_ALIAS_CHARACTERS);
        static final Type EVENT_ID = id("A Matrix event ID: $ and any text; at most 255 bytes of UTF-8", "$event", "^\\$[\\s\\S]")
                .atMost(MatrixIds.MAX_ID_BYTES);
        static final Type SHA256 = new Type(JSON.objectNode().put("type", "string").put("pattern", "^[0-9a-f]{64}$"),
                JSON.stringNode("0".repeat(64)), null);
        static final Type REQUEST_INFO = requestInfo();
        static final Type LIST = list("must be a list");
        static final Type STATE_EVENTS = list("must be a list of state events");

        static Type scalar(String type, JsonNode example) {
            return new Type(JSON.objectNode().put("type", type), example, null);
        }

        /**
         * An ID of the shape its reader takes (MatrixIds' {@code ...AsSynapseTakesIt}), as far as a
         * pattern says it: what no pattern can (half a surrogate pair, a length in bytes) is refused too.
         */
        static Type id(String description, String example, String pattern) {
            return text(description, example).with("pattern", JSON.stringNode(pattern));
        }

        static Type text(String description, String example) {
            return new Type(JSON.objectNode().put("type", "string").put("description", description), JSON.stringNode(example), null);
        }

        static Type oneOf(List<String> allowed) {
            ObjectNode schema = JSON.objectNode().put("type", "string");
            allowed.forEach(schema.putArray("enum")::add);
            return new Type(schema, JSON.stringNode(allowed.getFirst()), null);
        }

        static Type integerAtLeast(long minimum) {
            return new Type(JSON.objectNode().put("type", "integer").put("minimum", minimum), JSON.numberNode(minimum), null);
        }

        /** A list; its example has one object element, so that a reader of elements describes them. */
        static Type list(String problem) {
            return new Type(JSON.objectNode().put("type", "array"), JSON.arrayNode().add(JSON.objectNode()), problem);
        }

        Type withDefault(JsonNode value) {
            return with("default", value);
        }

        /**
         * At most this many characters. For an ID limited in bytes of UTF-8, the bound no ID over
         * it passes; a pattern cannot count bytes.
         */
        Type atMost(int characters) {
            return with("maxLength", JSON.numberNode(characters));
        }

        /** This type with one more schema keyword. */
        Type with(String keyword, JsonNode value) {
            ObjectNode schemaWith = schema.deepCopy();
            schemaWith.set(keyword, value);
            return new Type(schemaWith, example, problem);
        }

        private static Type requestInfo() {
            ObjectNode pair = JSON.objectNode().put("type", "array").put("minItems", 2).put("maxItems", 2);
            ArrayNode prefix = pair.putArray("prefixItems");
            prefix.addObject().put("description", "user agent").putArray("type").add("string").add("null");
            prefix.addObject().put("type", "string").put("description", "IP address");
            ObjectNode schema = JSON.objectNode().put("type", "array").put("description", "[user_agent, ip] pairs");
            schema.set("items", pair);
            return new Type(schema, JSON.arrayNode().add(JSON.arrayNode().add("Mozilla/5.0").add("192.0.2.1")), null);
        }
    }
}
