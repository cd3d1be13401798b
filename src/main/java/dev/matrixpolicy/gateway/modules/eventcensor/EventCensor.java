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
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Asks a censor service about each event from a local user ({@code check_event_allowed}): the service
 * may deny it or replace its content. Synapse's own third-party-rules example, over the gateway.
 */
final class EventCensor implements PolicyModule, CheckEventAllowed {
    private static final JsonMapper JSON = EventJson.MAPPER;

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
        boolean local = MatrixIds.domainOf(event.sender()).equals(serverName);
        if (!local && !includeRemoteEvents) {
            return EventAllowed.ALLOWED;
        }
        BackendRequest request = BackendRequest.post(CheckEventAllowed.TYPE.name(), endpoint, JSON.writeValueAsBytes(event.json()), timeout);
        return backend.ask(request, reply -> {
            if (!reply.isSuccessful()) {
                throw BackendFailure.status(reply.status());
            }
            return answer(args, CensorReply.read(reply.json()), local);
        }, () -> onFailure);
    }

    /**
     * A replacement stops the chain, so an unchanged content is answered as a plain allowance and the
     * next module is still asked. Synapse refuses a replacement of an event whose sender is on another
     * server (_rebuild_event_after_third_party_rules); for those a new content is answered as a plain
     * allowance too.
     */
    private EventAllowed answer(CheckEventAllowed.Args args, CensorReply reply, boolean local) {
        ClientEvent event = args.event();
        return switch (reply) {
            case CensorReply.Deny deny -> EventAllowed.DENIED;
            case CensorReply.Keep keep -> EventAllowed.ALLOWED;
            case CensorReply.Replace replace when !local || EventJson.equal(replace.content(), event.content()) -> EventAllowed.ALLOWED;
            case CensorReply.Replace replace -> {
                SynapseRefusals.of(event, replace.content(), args.stateEvents(), serverName).ifPresent(refusal -> {
                    throw BackendFailure.unusable(refusal.message());
                });
                ObjectNode censored = EventJson.copy(event.json()); // the event JSON is shared with the other modules
                censored.set("content", replace.content());
                yield EventAllowed.replacedBy(censored);
            }
        };
    }

    /** Waits for calls in flight (bounded by the timeout), then releases the pooled connections. */
    @Override
    public void close() {
        backend.close();
    }
}
