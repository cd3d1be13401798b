package dev.matrixpolicy.gateway.modules.ratelimits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.state.Take;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * A {@code rate_limits} instance: takes a token from the acting user's bucket, then from the room's,
 * for each action it limits, and refuses with the limit's error code (and {@code retry_after_ms})
 * when a bucket is empty; anything else falls through with {@code NOT_SPAM}. Exempt users are never
 * counted. A refused action takes no token from the bucket that refused it (the sender's token of an
 * action the room's bucket refuses is spent: the attempt was made). Asked for an explanation
 * ({@link DryRun}), it answers from the buckets as they are, taking nothing and counting nothing.
 *
 * <p>The buckets live in the process's {@link SharedState}: in Redis they are shared by every
 * replica. When the state cannot answer, the exception goes up and the entry's {@code on-failure}
 * decides.
 */
final class RateLimits implements PolicyModule, CheckEventForSpam, UserMayJoinRoom, UserMayInvite, UserMayCreateRoom {

    /** The callbacks, by the configuration key of the limit that applies to them. */
    static final Map<String, CallbackType<?, ?, ?>> CALLBACKS = Map.of(
            "events", CheckEventForSpam.TYPE, "joins", UserMayJoinRoom.TYPE, "invites", UserMayInvite.TYPE,
            "room-creation", UserMayCreateRoom.TYPE);

    /**
     * One configured limit.
     *
     * @param name      its configuration key, e.g. {@code events}
     * @param perSender the sender's bucket
     * @param perRoom   the room's bucket
     * @param refusal   what an empty bucket answers, before its retry-after is added
     * @param refused   counts refusals, by the bucket that refused
     */
    record Limit(String name, Optional<Bucket> perSender, Optional<Bucket> perRoom, Rejection refusal,
                 Map<Scope, Counter> refused) {
    }

    /** Whose bucket: the key segment and the metric tag. */
    enum Scope {
        SENDER("sender"), ROOM("room");

        final String tag;

        Scope(String tag) {
            this.tag = tag;
        }
    }

    /**
     * How many events' answers are remembered, and for how long at least: long past any retry of one
     * event. An event is remembered for as long as it counts (until it is history), if that is longer:
     * any server may ask the policy server about an event it has a copy of, and a copy asked about
     * again once forgotten would take a token again, from its sender's bucket and its room's.
     */
    private static final int EVENTS_REMEMBERED = 50_000;
    private static final Duration REMEMBERED_FOR = Duration.ofMinutes(10);

    private final String keyPrefix;
    private final SharedState state;
    private final UserIdMatcher exempt;
    private final Map<String, Limit> limits;
    private final long historyMillis;
    private final LongSupplier wallClock;
    /**
     * The answer about each event asked lately: an event asked twice (the homeserver's spam check, then
     * a policy-server request about the same event; a retry) takes one token and gets one answer,
     * also when the two ask at once: the second waits for the first's answer. Timed by the clock that
     * tells history from events that count.
     */
    private final Cache<String, CompletableFuture<SpamVerdict>> answered;

    /**
     * @param instanceName the entry's name: replicas with the same configuration share its buckets
     * @param history      how old an event must be to be history, neither counted nor refused; zero for never
     * @param wallClock    milliseconds since the epoch, as events' {@code origin_server_ts}
     */
    RateLimits(String instanceName, SharedState state, UserIdMatcher exempt, List<Limit> limits, Duration history,
               LongSupplier wallClock) {
        this.keyPrefix = "rate_limits:" + instanceName + ":";
        this.state = state;
        this.exempt = exempt;
        this.limits = limits.stream().collect(Collectors.toUnmodifiableMap(Limit::name, limit -> limit));
        this.historyMillis = history.toMillis();
        this.wallClock = wallClock;
        this.answered = Caffeine.newBuilder().maximumSize(EVENTS_REMEMBERED).expireAfterWrite(history.compareTo(REMEMBERED_FOR) > 0 ? history : REMEMBERED_FOR)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(wallClock.getAsLong()))
                .executor(Runnable::run).build();
    }

    @Override
    public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        boolean limited = limits.keySet().stream().anyMatch(name -> CALLBACKS.get(name).equals(callback));
        return limited ? PolicyModule.super.implementation(callback) : Optional.empty();
    }

    /**
     * Remote events count too, per sender: a remote flooder is a flooder (docs/modules/rate-limits.md).
     * History does not: an event older than {@link #historyMillis} was fetched by the homeserver
     * (backfill, a gap, the state of a room joined), and refusing it would have Synapse prune it for
     * good. An event asked again gets the answer it got, and takes no second token; so does an
     * explanation of it, which is what the event would be answered if asked now, not what the
     * buckets (emptied by the event itself, perhaps) would say about a new one.
     */
    @Override
    public SpamVerdict checkEventForSpam(CheckEventForSpam.Args args) {
        String eventId = args.event().eventId();
        if (eventId == null) {
            return eventVerdict(args);
        }
        if (DryRun.active()) {
            // read quietly: an explanation changes nothing, not even which answers are kept longest
            CompletableFuture<SpamVerdict> earlier = answered.policy().getIfPresentQuietly(eventId);
            return earlier != null && earlier.isDone() && !earlier.isCompletedExceptionally() ? earlier.join() : eventVerdict(args);
        }
        CompletableFuture<SpamVerdict> mine = new CompletableFuture<>();
        CompletableFuture<SpamVerdict> earlier = answered.asMap().putIfAbsent(eventId, mine);
        if (earlier != null) {
            return answerOf(earlier); // asked first by another request
        }
        try {
            SpamVerdict verdict = eventVerdict(args);
            mine.complete(verdict);
            return verdict;
        } catch (RuntimeException | Error failed) { // no answer to remember: the next asking tries afresh
            answered.asMap().remove(eventId, mine);
            mine.completeExceptionally(failed);
            throw failed;
        }
    }

    /**
     * The answer another request is working out: waited for as long as this request may wait (the
     * chain's deadline interrupts it), its failure thrown as it was thrown there.
     */
    private static SpamVerdict answerOf(CompletableFuture<SpamVerdict> earlier) {
        try {
            return earlier.get();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while another request asked about the same event");
        } catch (ExecutionException failed) {
            if (failed.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (failed.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(failed.getCause());
        }
    }

    private SpamVerdict eventVerdict(CheckEventForSpam.Args args) {
        if (isHistory(args.event().json().get("origin_server_ts"))) {
            return SpamVerdict.NOT_SPAM;
        }
        return verdict("events", args.event().sender(), Optional.ofNullable(args.event().roomId()));
    }

    private boolean isHistory(JsonNode originServerTs) {
        return historyMillis > 0 && originServerTs != null && originServerTs.canConvertToLong()
                && wallClock.getAsLong() - originServerTs.asLong() > historyMillis;
    }

    @Override
    public SpamVerdict userMayJoinRoom(UserMayJoinRoom.Args args) {
        return verdict("joins", args.user(), Optional.of(args.room()));
    }

    @Override
    public SpamVerdict userMayInvite(UserMayInvite.Args args) {
        return verdict("invites", args.inviter(), Optional.of(args.roomId()));
    }

    @Override
    public SpamVerdict userMayCreateRoom(UserMayCreateRoom.Args args) {
        return verdict("room-creation", args.userId(), Optional.empty());
    }

    @Override
    public boolean mayBlock() {
        return state.remote(); // Redis: each call waits on the network, so the entry's timeout applies
    }

    private SpamVerdict verdict(String name, String sender, Optional<String> room) {
        Limit limit = limits.get(name);
        if (exempt.matches(sender)) {
            return SpamVerdict.NOT_SPAM;
        }
        Optional<Rejection> refused = take(limit, Scope.SENDER, limit.perSender(), Optional.of(sender))
                .or(() -> take(limit, Scope.ROOM, limit.perRoom(), room));
        return refused.<SpamVerdict>map(rejection -> rejection).orElse(SpamVerdict.NOT_SPAM);
    }

    private Optional<Rejection> take(Limit limit, Scope scope, Optional<Bucket> bucket, Optional<String> id) {
        if (bucket.isEmpty() || id.isEmpty()) {
            return Optional.empty();
        }
        String key = keyPrefix + limit.name() + ":" + scope.tag + ":" + MatrixIds.keptForm(id.get());
        boolean explaining = DryRun.active();
        Take take = explaining ? state.peek(key, bucket.get()) : state.take(key, bucket.get());
        if (take instanceof Take.Refused refused) {
            if (!explaining) {
                limit.refused().get(scope).increment();
            }
            return Optional.of(limit.refusal().retryAfter(refused.retryAfter()));
        }
        return Optional.empty();
    }
}
