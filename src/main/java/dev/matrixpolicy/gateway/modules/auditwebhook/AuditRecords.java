package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.callbacks.ArgsJson;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.OnLoggedOut;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
import dev.matrixpolicy.gateway.matrix.EventJson;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes the JSON record of one notification:
 * {@code {"id", "callback", "category", "timestamp", "server_name", "arguments"}}, the arguments
 * in the JSON form the gateway's API documents, minus secrets.
 */
final class AuditRecords {
    /** What replaces a secret argument. */
    static final String REDACTED = "<redacted>";

    /**
     * Arguments that are secrets, per callback. {@code on_logged_out} is given the access token
     * that was just invalidated; an audit trail has no use for it, and a log store is the wrong
     * place for credentials even after they expired.
     */
    private static final Map<CallbackType<?, ?, ?>, Set<String>> SECRETS = Map.of(OnLoggedOut.TYPE, Set.of("access_token"));

    private static final JsonMapper JSON = EventJson.MAPPER;

    private final String serverName;
    private final boolean includeStateEvents;

    AuditRecords(String serverName, boolean includeStateEvents) {
        this.serverName = serverName;
        this.includeStateEvents = includeStateEvents;
    }

    /**
     * A notification as accepted: what was called, when, and with what; and the {@code id} it was
     * first sent with, when a delivery cut short hands it on (null until then), so that the receiver
     * can tell the second copy for what it is.
     */
    record Pending(CallbackType<?, ?, ?> callback, Instant timestamp, Object args, UUID id) {
        Pending(CallbackType<?, ?, ?> callback, Instant timestamp, Object args) {
            this(callback, timestamp, args, null);
        }

        /** This record, to be written again with the id it was sent with. */
        Pending sentAs(UUID sentId) {
            return new Pending(callback, timestamp, args, sentId);
        }
    }

    /** A record ready to send; {@code id} stays the same across retries so the receiver can deduplicate. */
    record Written(UUID id, String callback, byte[] body) {
    }

    /**
     * A notification as the queue holds it until a sender writes it: without the room state of an
     * {@code on_new_event} that will not be sent (null, not empty: no state was sent, not an empty
     * one), which in a large room is far bigger than the event and would otherwise stay in memory
     * for as long as the record waits behind a slow webhook. The event is kept as its own tree: read
     * from a request, it holds the whole body's bytes, the state's included, until it is made.
     * Whether a record carries the state is decided here, once: an instance a reload hands it on to
     * writes it as it was first sent.
     */
    Pending accept(CallbackType<?, ?, ?> callback, Object args) {
        Object kept = !includeStateEvents && args instanceof OnNewEvent.Args newEvent
                ? new OnNewEvent.Args(new ClientEvent(newEvent.event().json()), null) : args;
        return new Pending(callback, Instant.now(), kept);
    }

    Written write(Pending pending) {
        UUID id = pending.id() != null ? pending.id() : UUID.randomUUID();
        ObjectNode arguments = ArgsJson.write(pending.args());
        SECRETS.getOrDefault(pending.callback(), Set.of()).stream()
                .filter(arguments::has)
                .forEach(secret -> arguments.put(secret, REDACTED));
        if (arguments.path("state_events").isNull()) { // left out when the record was accepted
            arguments.remove("state_events");
        }
        ObjectNode record = JSON.createObjectNode();
        record.put("id", id.toString());
        record.put("callback", pending.callback().name());
        record.put("category", pending.callback().category().wireName());
        record.put("timestamp", pending.timestamp().toString());
        record.put("server_name", serverName);
        record.set("arguments", arguments);
        return new Written(id, pending.callback().name(), JSON.writeValueAsBytes(record));
    }
}
