package dev.matrixpolicy.gateway.callbacks;

import java.util.Objects;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Matrix event in the client-server format, with its {@code event_id}: the JSON form of
 * Synapse's {@code EventBase} (what synapse-http-antispam sends). The identifying fields are
 * validated when the event is read; everything else is kept as sent. Treat {@link #json()} as
 * read-only: it is shared with the other modules of the chain.
 */
public record ClientEvent(@JsonValue ObjectNode json) {
    public ClientEvent {
        Objects.requireNonNull(json, "json");
    }

    public String eventId() {
        return json.get("event_id").stringValue();
    }

    public String sender() {
        return json.get("sender").stringValue();
    }

    public String roomId() {
        return json.get("room_id").stringValue();
    }

    public String type() {
        return json.get("type").stringValue();
    }

    /** The event content; an empty object when the event has none (e.g. a redacted event). */
    public JsonNode content() {
        JsonNode content = json.get("content");
        return content == null ? json.objectNode() : content;
    }

    /** Present for state events only. */
    public Optional<String> stateKey() {
        JsonNode stateKey = json.get("state_key");
        return stateKey == null || !stateKey.isString() ? Optional.empty() : Optional.of(stateKey.stringValue());
    }
}
