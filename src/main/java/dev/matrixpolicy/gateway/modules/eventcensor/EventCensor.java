package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendRequest;
import dev.matrixpolicy.gateway.module.FailureAnswer;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.WorstCase;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Asks a censor service about each event from a local user ({@code check_event_allowed}): the service
 * may deny it or replace its content. Synapse's own third-party-rules example, over the gateway.
 */
final class EventCensor implements PolicyModule, CheckEventAllowed {
    private static final JsonMapper JSON = EventJson.MAPPER;
    /** Synapse's {@code Membership.LIST}. */
    private static final List<String> MEMBERSHIPS = List.of("invite", "join", "knock", "leave", "ban");

    private final String serverName;
    private final URI endpoint;
    private final Duration timeout;
    private final boolean includeRemoteEvents;
    private final FailureAnswer<EventAllowed> onFailure;
    private final Backend backend;
    private final WorstCase worstCase;

    EventCensor(EventCensorConfig config, ModuleContext context) {
        this.serverName = context.serverName();
        this.endpoint = config.endpoint();
        this.timeout = config.timeout();
        this.includeRemoteEvents = config.includeRemoteEvents();
        this.onFailure = config.failureMode() == FailureMode.FAIL_OPEN
                ? FailureAnswer.of(FailureMode.FAIL_OPEN, EventAllowed.ALLOWED, "event allowed uncensored")
                : FailureAnswer.of(FailureMode.FAIL_CLOSED, EventAllowed.DENIED, "event denied");
        // One backend per instance: its client pools connections and keeps them alive between events.
        this.backend = Backend.builder(context, config.connectTimeout()).maxReplySize(config.maxReplySize()).build();
        this.worstCase = WorstCase.ofRequest(config.connectTimeout(), config.timeout());
    }

    /** One request, never retried: connecting, then waiting for the answer. */
    @Override
    public Optional<WorstCase> worstCase() {
        return Optional.of(worstCase);
    }

    @Override
    public EventAllowed checkEventAllowed(CheckEventAllowed.Args args) {
        ClientEvent event = args.event();
        boolean local = MatrixIds.serverNameOf(event.sender()).equals(serverName);
        if (!local && !includeRemoteEvents) {
            return EventAllowed.ALLOWED;
        }
        BackendRequest request = BackendRequest.post(CheckEventAllowed.TYPE.name(), endpoint, JSON.writeValueAsBytes(event.json()), timeout);
        return backend.ask(request, reply -> {
            if (!reply.isSuccessful()) {
                throw BackendFailure.status(reply.status());
            }
            return answer(event, CensorReply.read(reply.json()), local);
        }, () -> onFailure);
    }

    /**
     * A replacement stops the chain, so an unchanged content is answered as a plain allowance and the
     * next module is still asked. Synapse refuses a replacement of an event whose sender is on another
     * server (_rebuild_event_after_third_party_rules); for those a new content is answered as a plain
     * allowance too.
     */
    private static EventAllowed answer(ClientEvent event, CensorReply reply, boolean local) {
        return switch (reply) {
            case CensorReply.Deny deny -> EventAllowed.DENIED;
            case CensorReply.Keep keep -> EventAllowed.ALLOWED;
            case CensorReply.Replace replace when !local || EventJson.equal(replace.content(), event.content()) -> EventAllowed.ALLOWED;
            case CensorReply.Replace replace -> {
                refusedBySynapse(event, replace.content()).ifPresent(problem -> {
                    throw BackendFailure.unusable("the new content " + problem + ", and Synapse would end the user's request in a 500");
                });
                ObjectNode censored = EventJson.copy(event.json()); // the event JSON is shared with the other modules
                censored.set("content", replace.content());
                yield EventAllowed.replacedBy(censored);
            }
        };
    }

    /**
     * What Synapse 1.157 refuses in a replacement with an exception, so a 500 for the user: the checks
     * of EventValidator.validate_builder that _rebuild_event_after_third_party_rules runs, and the
     * {@code redacts} a redaction in room version 11 and later holds in its content (without it,
     * handle_new_client_event fails an assertion). A redaction keeps its target: censoring its reason
     * must not remove another event.
     */
    private static Optional<String> refusedBySynapse(ClientEvent event, ObjectNode content) {
        return switch (event.type()) {
            case "m.room.message" -> notAString(event, content, "msgtype").or(() -> notAString(event, content, "body"));
            case "m.room.topic" -> notAString(event, content, "topic");
            case "m.room.name" -> notAString(event, content, "name");
            case "m.room.member" -> content.path("membership").isString() && MEMBERSHIPS.contains(content.get("membership").stringValue())
                    ? Optional.empty() : Optional.of("of an m.room.member event has no 'membership' of " + MEMBERSHIPS);
            case "m.room.tombstone" -> {
                JsonNode room = content.get("replacement_room");
                yield room == null ? Optional.of("of an m.room.tombstone event has no 'replacement_room'")
                        : room.isString() && room.stringValue().equals(event.roomId())
                        ? Optional.of("of an m.room.tombstone event names its own room as 'replacement_room'") : Optional.empty();
            }
            case "m.room.redaction" -> {
                JsonNode redacts = event.content().get("redacts");
                yield redacts == null || redacts.equals(content.get("redacts")) ? Optional.empty()
                        : Optional.of("of an m.room.redaction event changes or drops 'redacts'");
            }
            default -> Optional.empty();
        };
    }

    private static Optional<String> notAString(ClientEvent event, ObjectNode content, String field) {
        return content.path(field).isString() ? Optional.empty()
                : Optional.of("of an " + event.type() + " event has no string '" + field + "'");
    }

    /** Waits for calls in flight (bounded by the timeout), then releases the pooled connections. */
    @Override
    public void close() {
        backend.close();
    }
}
