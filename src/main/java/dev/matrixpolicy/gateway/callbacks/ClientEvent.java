package dev.matrixpolicy.gateway.callbacks;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Matrix event in the client-server format, with its {@code event_id}: the JSON form of
 * Synapse's {@code EventBase} (what synapse-http-antispam sends). The identifying fields are
 * validated when the event is read; everything else is kept as sent. Treat {@link #json()} as
 * read-only: it is shared with the other modules of the chain.
 *
 * <p>An event read from a request body answers its identifying fields from the body's one pass; its
 * whole tree, {@code content} included, is made when a module first asks for {@link #json()} or
 * {@link #content()}, so a chain that reads only senders never builds it.
 */
public final class ClientEvent {
    /** The event's own fields as sent; its objects and lists may be left empty (see {@link JsonBody#event}). */
    private final ObjectNode fields;
    private final Supplier<ObjectNode> json;

    public ClientEvent(ObjectNode json) {
        this(json, () -> json);
    }

    /**
     * An event whose scalar fields are known and whose tree is made when first needed.
     *
     * @param fields the event's scalar fields as sent, as the tree has them
     * @param json   the whole tree, the same one on every call
     */
    ClientEvent(ObjectNode fields, Supplier<ObjectNode> json) {
        this.fields = Objects.requireNonNull(fields, "fields");
        this.json = json;
    }

    /** The event as sent. */
    @JsonValue
    public ObjectNode json() {
        return json.get();
    }

    public String eventId() {
        return fields.get("event_id").stringValue();
    }

    public String sender() {
        return fields.get("sender").stringValue();
    }

    /** The room's ID; for a room version 12 create event sent without one, the room it makes (see {@link #roomItMakes}). */
    public String roomId() {
        JsonNode roomId = fields.get("room_id");
        return roomId != null ? roomId.stringValue() : roomItMakes(fields).orElseThrow();
    }

    /**
     * The room a room version 12 create event makes, when the event does not name it: MSC4291 leaves
     * {@code room_id} out of that event, whose own ID, {@code $} and 43 URL-safe base64 characters,
     * is the room's with {@code !} for {@code $}. Synapse holds the event so, and synapse-http-antispam
     * sends it so to {@code check_event_for_spam} (our module adds {@code room_id}, as Synapse's client
     * format does): Synapse checks the create event of every version 12 room a local user joins over
     * federation, and takes the antispam module's answer to a 400 as a refusal of it.
     *
     * @return empty for an event that names a room, even {@code null}, and for any other event
     */
    static Optional<String> roomItMakes(ObjectNode fields) {
        JsonNode eventId = fields.get("event_id");
        if (fields.has("room_id") || !EventJson.isCreateEvent(fields)
                || eventId == null || !eventId.isString() || !eventId.stringValue().startsWith("$")) {
            return Optional.empty();
        }
        String roomId = "!" + eventId.stringValue().substring(1);
        return MatrixIds.isV12RoomId(roomId) ? Optional.of(roomId) : Optional.empty();
    }

    public String type() {
        return fields.get("type").stringValue();
    }

    /** The event content; an empty object when the event has none (e.g. a redacted event). */
    public JsonNode content() {
        JsonNode content = json().get("content");
        return content == null ? fields.objectNode() : content;
    }

    /** Present for state events only. */
    public Optional<String> stateKey() {
        JsonNode stateKey = fields.get("state_key");
        return stateKey == null || !stateKey.isString() ? Optional.empty() : Optional.of(stateKey.stringValue());
    }

    /** Equal JSON, compared without recursion: an event's content may nest as deep as 64 KiB allows. */
    @Override
    public boolean equals(Object other) {
        return other instanceof ClientEvent event && EventJson.equal(json(), event.json());
    }

    /** Of the event's ID and type only: equal events share them, and neither takes a walk through the content. */
    @Override
    public int hashCode() {
        return Objects.hash(json().path("event_id").asString(""), json().path("type").asString(""));
    }

    @Override
    public String toString() {
        return "ClientEvent[json=" + EventJson.MAPPER.writeValueAsString(json()) + "]";
    }
}
