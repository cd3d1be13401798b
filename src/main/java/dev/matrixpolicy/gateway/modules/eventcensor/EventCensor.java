package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.PolicyModule;
import dev.matrixpolicy.gateway.callbacks.WorstCase;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.BackendClient;
import dev.matrixpolicy.gateway.module.BackendFailures;
import dev.matrixpolicy.gateway.module.BackendTimer;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Asks a censor service about each event from a local user ({@code check_event_allowed}): the service
 * may deny it or replace its content. Synapse's own third-party-rules example, over the gateway.
 */
final class EventCensor implements PolicyModule, CheckEventAllowed, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventCensor.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final String serverName;
    private final URI endpoint;
    private final FailureMode failureMode;
    private final boolean includeRemoteEvents;
    private final BackendClient http;
    private final RestClient client;
    private final BackendTimer backendTimer;
    private final WorstCase worstCase;

    EventCensor(EventCensorConfig config, ModuleContext context) {
        this.name = context.instanceName();
        this.serverName = context.serverName();
        this.endpoint = config.endpoint();
        this.failureMode = config.failureMode();
        this.includeRemoteEvents = config.includeRemoteEvents();
        // One client per instance: the JDK client pools connections and keeps them alive between events.
        this.http = new BackendClient(HttpClient.Version.HTTP_1_1, config.connectTimeout());
        this.client = http.restClient(config.timeout());
        this.backendTimer = new BackendTimer(name, context.meterRegistry());
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
        long start = System.nanoTime();
        try {
            CensorReply reply = CensorReply.read(ask(event));
            backendTimer.record(Outcome.SUCCESS, System.nanoTime() - start);
            return answer(event, reply, local);
        } catch (RestClientException | JacksonException | CensorReply.Unusable failure) {
            long nanos = System.nanoTime() - start;
            boolean timedOut = BackendFailures.isTimeout(failure);
            Outcome outcome = Outcome.failure(timedOut);
            backendTimer.record(outcome, nanos);
            log.atWarn().addKeyValue("module", name).addKeyValue("failure", outcome.tag())
                    .log("Module {}: the censor could not be asked ({}); {}", name, describe(failure, timedOut, nanos),
                            failureMode == FailureMode.FAIL_OPEN ? "failing open, event allowed uncensored"
                                    : "failing closed, event denied");
            return failureMode == FailureMode.FAIL_OPEN ? EventAllowed.ALLOWED : EventAllowed.DENIED;
        }
    }

    private JsonNode ask(ClientEvent event) {
        return client.post().uri(endpoint)
                .contentType(MediaType.APPLICATION_JSON).accept(MediaType.APPLICATION_JSON)
                .body(JSON.writeValueAsBytes(event.json()))
                .exchange((request, response) -> {
                    if (!response.getStatusCode().is2xxSuccessful()) {
                        throw new CensorReply.Unusable("HTTP " + response.getStatusCode().value());
                    }
                    return JSON.readTree(response.getBody());
                });
    }

    /**
     * A replacement stops the chain, so an unchanged content is answered as a plain allowance and the
     * next module is still asked. Synapse ignores replacements of events from other servers; for those
     * a new content is answered as a plain allowance too.
     */
    private static EventAllowed answer(ClientEvent event, CensorReply reply, boolean local) {
        return switch (reply) {
            case CensorReply.Deny deny -> EventAllowed.DENIED;
            case CensorReply.Keep keep -> EventAllowed.ALLOWED;
            case CensorReply.Replace replace when !local || replace.content().equals(event.content()) -> EventAllowed.ALLOWED;
            case CensorReply.Replace replace -> {
                ObjectNode censored = event.json().deepCopy(); // the event JSON is shared with the other modules
                censored.set("content", replace.content());
                yield EventAllowed.replacedBy(censored);
            }
        };
    }

    /** What went wrong, without the URL or the event: enough for an operator, nothing secret. */
    private static String describe(Throwable failure, boolean timedOut, long nanos) {
        if (timedOut) {
            return "no answer after " + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
        }
        if (failure instanceof CensorReply.Unusable unusable) {
            return "unusable answer: " + unusable.getMessage();
        }
        if (failure instanceof JacksonException unreadable) {
            return "unreadable answer: " + unreadable.getOriginalMessage();
        }
        return BackendFailures.causes(failure);
    }

    /** Waits for calls in flight (bounded by the timeout), then releases the pooled connections. */
    @Override
    public void close() {
        http.close();
    }
}
