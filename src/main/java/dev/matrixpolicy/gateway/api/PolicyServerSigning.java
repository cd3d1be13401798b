package dev.matrixpolicy.gateway.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.Pdu;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The policy server's decision on an event: the {@code check_event_for_spam} chain of the serving
 * generation, asked with the event (without {@code unsigned}, nor the other top-level keys no
 * signature covers, {@link Pdu#UNCOVERED}, which the asking server alone wrote)
 * and the asking homeserver, so every module applies
 * ({@code policy_list}, {@code user_denylist}, an HTTP service) with its failure policy, timeout,
 * metrics and decision log entry as for the homeserver's own questions.
 *
 * <p>An allowed event is signed with the policy server's key. The answer, a signature or a refusal,
 * is kept by the event's reference hash (its event ID from room version 3 on): MSC4284 asks policy
 * servers to answer an event the same way every time, since no server is ever told of a change,
 * and in a busy room every homeserver asks about the same event at once. Concurrent questions
 * about one event share one chain run. A chain that failed is not remembered: the next question
 * asks again. At most {@code signature-cache-size} events are kept, least recently used out first.
 */
final class PolicyServerSigning {
    static final String CACHE_NAME = "policy-server-answers";

    /** The policy server's answer about one event. */
    sealed interface Verdict {
        /** Signed: the signature, unpadded base64, with key ID {@code ed25519:policy_server}. */
        record Signed(String signature) implements Verdict {
        }

        /** Refused, with the reason the refusing module gave or a neutral one. */
        record Refused(String reason) implements Verdict {
        }
    }

    static final String DEFAULT_REFUSAL = "This event is not allowed in this room";

    private final Generations generations;
    private final RecordedDecisions decisions;
    private final EventSigner signer;
    private final Cache<String, CompletableFuture<Verdict>> answers;
    private volatile RoomIndex rooms = new RoomIndex(List.of(), Map.of());

    PolicyServerSigning(Generations generations, RecordedDecisions decisions, EventSigner signer, int cacheSize,
                        MeterRegistry registry) {
        this.generations = generations;
        this.decisions = decisions;
        this.signer = signer;
        this.answers = Caffeine.newBuilder().maximumSize(cacheSize).executor(Runnable::run).recordStats().build();
        CaffeineCacheMetrics.monitor(registry, answers, CACHE_NAME);
    }

    /** The serving generation's rooms, by ID, computed again only when a reload changed the list. */
    private record RoomIndex(List<PolicyGatewayProperties.PolicyServer.Room> source, Map<String, String> versions) {
    }

    /**
     * The version of a room this policy server serves.
     *
     * @throws MatrixApiException 404 {@code M_NOT_FOUND} for any other room
     */
    String roomVersion(String roomId) {
        List<PolicyGatewayProperties.PolicyServer.Room> configured = generations.current().properties().policyServer().rooms();
        RoomIndex index = rooms;
        if (index.source() != configured) {
            index = new RoomIndex(configured, configured.stream().collect(Collectors.toUnmodifiableMap(
                    PolicyGatewayProperties.PolicyServer.Room::id, PolicyGatewayProperties.PolicyServer.Room::roomVersion)));
            rooms = index;
        }
        String version = index.versions().get(roomId);
        if (version == null) {
            throw MatrixApiException.notFound("This policy server does not serve room " + roomId);
        }
        return version;
    }

    /**
     * The answer about {@code pdu}, asked by {@code origin}: remembered, or decided now.
     *
     * @throws dev.matrixpolicy.gateway.chain.ModuleFailedException when the chain failed closed
     */
    Verdict decide(String origin, Pdu pdu) {
        CompletableFuture<Verdict> mine = new CompletableFuture<>();
        CompletableFuture<Verdict> held = answers.get(pdu.referenceHash(), referenceHash -> mine);
        if (held != mine) {
            return await(held);
        }
        try {
            Verdict verdict = ask(origin, pdu);
            mine.complete(verdict);
            return verdict;
        } catch (RuntimeException failed) {
            answers.asMap().remove(pdu.referenceHash(), mine);
            mine.completeExceptionally(failed);
            throw failed;
        }
    }

    /**
     * The answer about the event with this reference hash, when one is remembered and no longer being
     * decided: the rate limit spares such events, and tests read it.
     */
    Optional<Verdict> remembered(String referenceHash) {
        return Optional.ofNullable(answers.getIfPresent(referenceHash)).filter(CompletableFuture::isDone)
                .map(CompletableFuture::join);
    }

    private Verdict ask(String origin, Pdu pdu) {
        ObjectNode event = EventJson.copy(pdu.json());
        // covered by no signature nor the reference hash the answer is kept by: the first asker's to fill
        Pdu.UNCOVERED.forEach(event::remove);
        event.put("event_id", pdu.eventId());
        event.put("room_id", pdu.roomId()); // a room version 12 create event names none: the modules see the room's ID
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.set("event", event);
        CheckEventForSpam.Args args = new CheckEventForSpam.Args(new ClientEvent(event),
                Optional.of(new CheckEventForSpam.PolicyServerRequest(origin)));
        try (Generations.Lease lease = generations.lease()) {
            CallbackEndpoint<CheckEventForSpam.Args, SpamVerdict> chain = lease.generation().chains().endpoint(CheckEventForSpam.TYPE);
            Decision<SpamVerdict> decision = decisions.decide(chain, args, () -> body, verdict -> verdict instanceof Rejection
                    ? HttpStatus.BAD_REQUEST.value() : HttpStatus.OK.value());
            return switch (decision.result()) {
                case SpamVerdict.NotSpam allowed -> new Verdict.Signed(signer.sign(pdu));
                case Rejection refused -> new Verdict.Refused(refused.error().orElse(DEFAULT_REFUSAL));
            };
        }
    }

    private static Verdict await(CompletableFuture<Verdict> known) {
        try {
            return known.join();
        } catch (CompletionException failed) {
            if (failed.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw failed;
        }
    }
}
