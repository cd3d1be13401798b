package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException.Kind;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Typed, validating access to the JSON object that carries a callback's arguments. Field names are
 * Synapse's Python parameter names. A required field that is absent or {@code null} is
 * {@link Kind#MISSING}; a field of the wrong type or grammar is {@link Kind#INVALID}. Unknown fields
 * are ignored, so a newer homeserver that sends more arguments is still understood.
 */
public final class JsonArgs {
    private final ObjectNode json;
    private final String path;

    private JsonArgs(ObjectNode json, String path) {
        this.json = json;
        this.path = path;
    }

    public static JsonArgs of(ObjectNode json) {
        return new JsonArgs(json, "");
    }

    // ---- scalars

    public String string(String field) {
        return requireString(field, required(field));
    }

    public Optional<String> optionalString(String field) {
        return optional(field).map(node -> requireString(field, node));
    }

    public boolean bool(String field) {
        JsonNode node = required(field);
        if (!node.isBoolean()) {
            throw invalid(field, "must be a boolean");
        }
        return node.booleanValue();
    }

    /** A boolean that older homeservers may not send. */
    public boolean bool(String field, boolean whenAbsent) {
        return optional(field).isPresent() ? bool(field) : whenAbsent;
    }

    public long integer(String field) {
        JsonNode node = required(field);
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw invalid(field, "must be an integer");
        }
        return node.longValue();
    }

    /** A count or a size in bytes: an integer of 0 or more. */
    public long count(String field) {
        long value = integer(field);
        if (value < 0) {
            throw invalid(field, "must be 0 or more");
        }
        return value;
    }

    /** Synapse's {@code MediaUploadLimit}: {@code {"max_bytes": ..., "time_period_ms": ...}}. */
    public MediaUploadLimit mediaUploadLimit(String field) {
        JsonArgs limit = nested(field);
        long maxBytes = limit.count("max_bytes");
        long timePeriodMs = limit.integer("time_period_ms");
        if (timePeriodMs < 1) {
            throw limit.invalid("time_period_ms", "must be at least 1");
        }
        return new MediaUploadLimit(maxBytes, timePeriodMs);
    }

    /** One of a fixed set of strings, e.g. a room visibility. */
    public String oneOf(String field, List<String> allowed) {
        String value = string(field);
        if (!allowed.contains(value)) {
            throw invalid(field, "must be one of " + allowed);
        }
        return value;
    }

    // ---- Matrix identifiers

    public String userId(String field) {
        return identifier(field, string(field), MatrixIds::userId);
    }

    public Optional<String> optionalUserId(String field) {
        return optionalString(field).map(value -> identifier(field, value, MatrixIds::userId));
    }

    public String roomId(String field) {
        return identifier(field, string(field), MatrixIds::roomId);
    }

    public Optional<String> optionalRoomId(String field) {
        return optionalString(field).map(value -> identifier(field, value, MatrixIds::roomId));
    }

    public String roomAlias(String field) {
        return identifier(field, string(field), MatrixIds::roomAlias);
    }

    // ---- structures

    public ObjectNode object(String field) {
        return requireObject(field, required(field));
    }

    public Optional<ObjectNode> optionalObject(String field) {
        return optional(field).map(node -> requireObject(field, node));
    }

    /** Arguments nested in an object field, e.g. {@code user_profile}. */
    public JsonArgs nested(String field) {
        return new JsonArgs(object(field), qualified(field) + ".");
    }

    /** An event in client format; {@code event_id}, {@code sender}, {@code room_id} and {@code type} are validated. */
    public ClientEvent event(String field) {
        return readEvent(field, object(field));
    }

    /** A room's state as a list of client-format state events (the JSON form of a {@code StateMap}). */
    public List<ClientEvent> stateEvents(String field) {
        JsonNode node = required(field);
        if (!node.isArray()) {
            throw invalid(field, "must be a list of state events");
        }
        List<ClientEvent> events = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String element = field + "[" + i + "]";
            ClientEvent event = readEvent(element, requireObject(element, node.get(i)));
            if (event.stateKey().isEmpty()) {
                throw invalid(element + ".state_key", "state events need a string state_key");
            }
            events.add(event);
        }
        return List.copyOf(events);
    }

    /** Synapse's {@code Collection[Tuple[user_agent, ip]]}, as a list of two-element lists. */
    public List<RequestInfo> requestInfo(String field) {
        JsonNode node = required(field);
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

    /** A list whose elements are read by {@code element}; each gets its index in error messages. */
    public List<JsonNode> array(String field) {
        JsonNode node = required(field);
        if (!node.isArray()) {
            throw invalid(field, "must be a list");
        }
        List<JsonNode> elements = new ArrayList<>(node.size());
        node.values().forEach(elements::add);
        return elements;
    }

    /** Reads an element of a list as arguments in their own right, e.g. one presence state. */
    public JsonArgs element(String field, int index, JsonNode element) {
        String name = field + "[" + index + "]";
        return new JsonArgs(requireObject(name, element), qualified(name) + ".");
    }

    // ---- plumbing

    private JsonNode required(String field) {
        JsonNode node = json.get(field);
        if (node == null || node.isNull()) {
            throw new BadArgumentException(Kind.MISSING, qualified(field), "missing required field '" + qualified(field) + "'");
        }
        return node;
    }

    private Optional<JsonNode> optional(String field) {
        JsonNode node = json.get(field);
        return node == null || node.isNull() ? Optional.empty() : Optional.of(node);
    }

    private String requireString(String field, JsonNode node) {
        if (!node.isString()) {
            throw invalid(field, "must be a string");
        }
        return node.stringValue();
    }

    private ObjectNode requireObject(String field, JsonNode node) {
        if (!(node instanceof ObjectNode object)) {
            throw invalid(field, "must be a JSON object");
        }
        return object;
    }

    private ClientEvent readEvent(String field, ObjectNode event) {
        JsonArgs fields = new JsonArgs(event, qualified(field) + ".");
        fields.identifier("event_id", fields.string("event_id"), MatrixIds::eventId);
        fields.userId("sender");
        fields.roomId("room_id");
        fields.string("type");
        fields.optionalObject("content");
        return new ClientEvent(event);
    }

    private String identifier(String field, String value, UnaryOperator<String> grammar) {
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
        return path + field;
    }
}
