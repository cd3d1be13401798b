package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.callbacks.ArgsJson;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
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
     * A record as it will be sent, written when the notification is accepted: what the queue holds is
     * then the bytes to send, which bound its memory exactly ({@code queue-max-size}), and not the
     * call's arguments, a few times larger. {@code id} stays the same across retries, and when a
     * delivery cut short hands it on to a reload's instance, so the receiver can tell a second copy
     * for what it is; the record is sent as the instance that accepted it wrote it.
     */
    record Written(UUID id, String callback, byte[] body) {
    }

    /**
     * The record of a notification accepted now. An {@code on_new_event}'s room state is left out
     * unless {@code include-state-events}: left out, not written empty, since no state was sent.
     */
    Written write(CallbackType<?, ?, ?> callback, Object args) {
        Instant timestamp = Instant.now();
        UUID id = UUID.randomUUID();
        ObjectNode arguments = ArgsJson.write(!includeStateEvents && args instanceof OnNewEvent.Args newEvent
                ? new OnNewEvent.Args(newEvent.event(), null) : args);
        SECRETS.getOrDefault(callback, Set.of()).stream()
                .filter(arguments::has)
                .forEach(secret -> arguments.put(secret, REDACTED));
        if (arguments.path("state_events").isNull()) { // left out, not sent
            arguments.remove("state_events");
        }
        ObjectNode record = JSON.createObjectNode();
        record.put("id", id.toString());
        record.put("callback", callback.name());
        record.put("category", callback.category().wireName());
        record.put("timestamp", timestamp.toString());
        record.put("server_name", serverName);
        record.set("arguments", arguments);
        return new Written(id, callback.name(), JSON.writeValueAsBytes(record));
    }
}
