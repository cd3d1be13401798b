package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.outage.Outage;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Slot;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A policy room, read live through the homeserver's client-server API as a bot account.
 *
 * <p>On its own virtual thread it finds out who the bot is ({@code /account/whoami}), resolves the
 * room's alias, joins the room unless the bot is in it, stores a sync filter for the room's rule
 * events, takes a first sync token, and only then reads the room's full state: an event sent in
 * between is in the state, or in the next sync, never in neither. After that it long-polls
 * {@code /sync}, applies each response's rule state events in order (the {@code state} section, then
 * the timeline's state events), then the timeline's redactions of rule events, and hands the
 * complete rules to the listener once per response that changed anything. A gap (a {@code limited}
 * timeline, or a section of more events than {@link SyncAnswer} keeps) reads the full state again.
 *
 * <p>When the homeserver fails (down, restarting, 5xx, slow, garbled, 429) the source keeps its last
 * good rules, retries after the {@link Settings#backoff()} pauses (a 429 waits at least its
 * {@code retry_after_ms}, up to {@link #LONGEST_RETRY_AFTER}), and records the failure in its {@link Status}. It logs one WARN line when
 * the error changes and one INFO line when the room reads again. A refused access token (401) is
 * retried at the longest pause only, since only an admin can fix it. A refusal or a removal from the
 * room starts again from whoami, so that a kicked bot rejoins if it may.
 */
public final class RoomSource implements PolicySource {
    private static final Logger log = LoggerFactory.getLogger(RoomSource.class);
    private static final JsonMapper JSON = EventJson.MAPPER;
    /** Rule events one sync response carries before the homeserver reports a gap, and the full state is read again. */
    static final int TIMELINE_LIMIT = 100;
    /**
     * How old a sync's token may be before an answer without the room no longer proves that nothing
     * changed. Synapse looks back some thousand events from now for ones the filter keeps (1.157's
     * {@code _load_filtered_recents}); finding none, it leaves the room out with no {@code limited}
     * flag, even when a rule event lies further back. Long-polling, a token is a few milliseconds old;
     * after a failed sync's pause or a long full read it may be minutes, and a member raid can pass a
     * thousand events in that time.
     */
    static final Duration STALE_TOKEN = Duration.ofSeconds(5);
    private static final String TOMBSTONE = "m.room.tombstone";
    /**
     * How many times a redaction of a rule the homeserver said it had not applied is asked about, the
     * pauses between as after failed attempts ({@link Settings#backoff}: 1, 2, 4 and 8 s by default). A
     * homeserver's workers may answer from a cache a moment behind the sync that carried it; a
     * redaction that never takes effect (its sender may not redact) is asked about no more after that.
     */
    static final int REDACTION_ASKS = 5;
    /**
     * The least time from one sync to the next when an answer brought nothing to apply, or a gap: a
     * homeserver (or proxy) that answers every long-poll at once would otherwise spin the source, and
     * the homeserver with it. Answers with events are taken at once, so rules never wait for it.
     */
    static final Duration IDLE_SYNC_SPACING = Duration.ofMillis(250);
    /** How many gaps in a row, each a full read, are worth a WARN line: the room is read at the backoff's pace meanwhile. */
    static final int GAPS_WORTH_A_WARNING = 3;
    /** The most redactions waiting to be asked about again: a flood of powerless ones drops the oldest. */
    static final int REDACTIONS_WAITING = 1_000;
    /** The longest a 429's {@code retry_after_ms} holds the source back, unless the longest backoff pause is longer. */
    static final Duration LONGEST_RETRY_AFTER = Duration.ofMinutes(10);
    /** How long {@link #close()} waits for the reading thread, whose calls it has just aborted. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    /**
     * The pause before the next attempt after failures in a row. The {@code policy_list} module hands
     * in its {@code Backoff} (exponential, capped, jittered): the gateway's one backoff rule lives in
     * the module package, which this pure core may not use.
     */
    @FunctionalInterface
    public interface Pauses {
        /** @param failedAttempts failed attempts in a row, from 1 */
        Duration after(int failedAttempts);

        /** The longest pause, for a failure only an admin can fix. */
        default Duration longest() {
            return after(Integer.MAX_VALUE);
        }
    }

    /**
     * How to read one policy room.
     *
     * @param name           the source's name in the module's configuration
     * @param homeserver     the client-server API's base URL, {@code http} or {@code https}, e.g. {@code https://matrix.example.org}
     * @param accessToken    the bot's access token, as read from its file by the caller
     * @param room           the room's ID ({@code !…}) or alias ({@code #…:server})
     * @param requestTimeout how long a call may wait for a connection, for an answer (a sync waits
     *                       {@code syncTimeout} on top), and between two pieces of a body
     * @param syncTimeout    how long the homeserver may hold a sync before answering that nothing changed
     * @param maxReplySize   the longest answer read, in bytes (the room's state, one sync); a longer one is a failure
     * @param backoff        the pauses between failed attempts, e.g. the module's 1 s doubling up to 60 s
     * @param fullReadEvery  how often the room's whole state is read again, beside the syncs: the state
     *                       can change with no event in any sync (state resolution after a federation
     *                       gap), and a homeserver before MSC4222's {@code state_after} does not say so
     * @param clock          the time of {@link Status}, and of the full reads
     */
    public record Settings(String name, URI homeserver, String accessToken, String room, Duration requestTimeout,
                           Duration syncTimeout, long maxReplySize, Pauses backoff, Duration fullReadEvery, Clock clock) {
        public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
        public static final Duration DEFAULT_SYNC_TIMEOUT = Duration.ofSeconds(30);
        /** As a URL source's {@code max-size}: a room of a million rules has a state of a few hundred MB. */
        public static final long DEFAULT_MAX_REPLY_SIZE = 256L * 1024 * 1024;
        public static final Duration DEFAULT_FULL_READ_EVERY = Duration.ofHours(1);

        /** @throws IllegalArgumentException naming the setting that is wrong */
        public Settings {
            require(name != null && !name.isBlank(), "name", "must not be blank");
            require(homeserver != null && homeserver.isAbsolute() && homeserver.getHost() != null
                            && ("http".equalsIgnoreCase(homeserver.getScheme()) || "https".equalsIgnoreCase(homeserver.getScheme()))
                            && homeserver.getRawQuery() == null && homeserver.getRawFragment() == null,
                    "homeserver", "must be an http or https URL without query or fragment, got " + homeserver);
            require(accessToken != null && !accessToken.isBlank() && accessToken.chars().noneMatch(Character::isWhitespace),
                    "accessToken", "must be one word (is the token file empty?)");
            require(room != null && (room.startsWith("!") && room.length() > 1
                            || room.startsWith("#") && room.indexOf(':') > 1),
                    "room", "must be a room ID (!...) or an alias (#name:server), got '" + room + "'");
            require(requestTimeout != null && requestTimeout.isPositive(), "requestTimeout", "must be positive");
            // A sync that never waits would poll the homeserver in a tight loop.
            require(syncTimeout != null && syncTimeout.isPositive(), "syncTimeout", "must be positive");
            require(maxReplySize >= 1 && maxReplySize <= ReplyCap.LARGEST, "maxReplySize",
                    "must be between 1B and " + ReplyCap.format(ReplyCap.LARGEST) + ", not " + ReplyCap.format(maxReplySize));
            Objects.requireNonNull(backoff, "backoff");
            require(fullReadEvery != null && fullReadEvery.isPositive(), "fullReadEvery", "must be positive");
            Objects.requireNonNull(clock, "clock");
        }

        /** The defaults: 10 s per request, 30 s long-polls, answers up to 256MB, a full read every hour, the system clock. */
        public static Settings of(String name, URI homeserver, String accessToken, String room, Pauses backoff) {
            return new Settings(name, homeserver, accessToken, room, DEFAULT_REQUEST_TIMEOUT, DEFAULT_SYNC_TIMEOUT,
                    DEFAULT_MAX_REPLY_SIZE, backoff, DEFAULT_FULL_READ_EVERY, Clock.systemUTC());
        }

        public Settings withRequestTimeout(Duration timeout) {
            return new Settings(name, homeserver, accessToken, room, timeout, syncTimeout, maxReplySize, backoff, fullReadEvery, clock);
        }

        public Settings withSyncTimeout(Duration timeout) {
            return new Settings(name, homeserver, accessToken, room, requestTimeout, timeout, maxReplySize, backoff, fullReadEvery, clock);
        }

        public Settings withMaxReplySize(long bytes) {
            return new Settings(name, homeserver, accessToken, room, requestTimeout, syncTimeout, bytes, backoff, fullReadEvery, clock);
        }

        public Settings withBackoff(Pauses pauses) {
            return new Settings(name, homeserver, accessToken, room, requestTimeout, syncTimeout, maxReplySize, pauses, fullReadEvery, clock);
        }

        public Settings withFullReadEvery(Duration every) {
            return new Settings(name, homeserver, accessToken, room, requestTimeout, syncTimeout, maxReplySize, backoff, every, clock);
        }

        public Settings withClock(Clock time) {
            return new Settings(name, homeserver, accessToken, room, requestTimeout, syncTimeout, maxReplySize, backoff, fullReadEvery, time);
        }

        /** Without the access token, which must not reach a log. */
        @Override
        public String toString() {
            return "Settings[name=" + name + ", homeserver=" + homeserver + ", accessToken=(hidden), room=" + room
                    + ", requestTimeout=" + requestTimeout + ", syncTimeout=" + syncTimeout + ", maxReplySize=" + maxReplySize
                    + ", fullReadEvery=" + fullReadEvery + "]";
        }

        private static void require(boolean valid, String setting, String problem) {
            if (!valid) {
                throw new IllegalArgumentException(setting + " " + problem);
            }
        }
    }

    private final Settings settings;
    private final ClientServerApi homeserver;
    private final Object lifecycle = new Object();
    private volatile Status status = Status.STARTING;
    /** The upgrade of the room being read, as its tombstone last said. */
    private volatile Optional<RoomUpgrade> upgrade = Optional.empty();
    /** Set by {@link #redeliver}: the reading thread hands its rules over again after its current call. */
    private volatile boolean redeliver;
    private volatile boolean closed;
    private Thread reader;

    public RoomSource(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.homeserver = new ClientServerApi(settings.homeserver(), settings.accessToken(), settings.requestTimeout(),
                new ReplyCap("max-size", settings.maxReplySize()));
    }

    @Override
    public String name() {
        return settings.name();
    }

    /** @throws IllegalStateException when started before, or closed */
    @Override
    public void start(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (lifecycle) {
            if (closed || reader != null) {
                throw new IllegalStateException(this + " is " + (closed ? "closed" : "started already"));
            }
            reader = Thread.ofVirtual().name("policy-room-" + name()).start(new Reading(listener)::run);
        }
    }

    @Override
    public Status status() {
        return status;
    }

    /** The upgrade of the room being read, if its tombstone announces one: reported, never followed. */
    @Override
    public Optional<RoomUpgrade> upgrade() {
        return upgrade;
    }

    @Override
    public void redeliver() {
        redeliver = true;
    }

    /** Aborts the call in flight (a long-poll included) and waits briefly for the reading thread to end. */
    @Override
    public void close() {
        Thread running;
        synchronized (lifecycle) {
            closed = true;
            running = reader;
        }
        if (running != null) {
            running.interrupt();
        }
        homeserver.close();
        if (running != null) {
            try {
                if (!running.join(CLOSE_WAIT)) {
                    log.warn("{}: its reading thread did not stop within {}", this, HomeserverFailure.format(CLOSE_WAIT));
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Where the reading stands: the room joined, the filter stored, the sync token. Empty until connected. */
    private static final class Session {
        final String userId;
        final String roomId;
        final String filterId;
        String since;
        boolean stateRead;
        /** When the state was last read whole. */
        Instant stateReadAt = Instant.MIN;
        /**
         * Whether the rules held are this room's, its state read whole once (in this session, or in one
         * before it in the same room), so that its syncs can go on while a read again fails.
         */
        boolean stateReadOnce;
        /**
         * Whether this session took its rules over from one before it and has not read the state whole
         * yet: what the room sent between the two sessions is only in its state, so until a full read
         * works the source shows its failure, though it follows the room's new events meanwhile.
         */
        boolean fullReadOwed;
        /** Reads of the whole state again that failed in a row, and when to try the next. */
        final Outage rereads;
        Instant rereadAt = Instant.MIN;
        /** When the bot was last known to be in the room. */
        Instant joinedAt;
        /** Until when the rules are known to be the room's: {@link #since} was taken, or the state read whole, then. */
        Instant coveredAt;
        /** Redactions of rules the homeserver had not applied when asked, by how many times it was asked. */
        final LinkedHashMap<String, Integer> unappliedRedactions = new LinkedHashMap<>();
        /** When to ask about {@link #unappliedRedactions} again. */
        Instant askAgainAt = Instant.MAX;
        /** Gaps reported one soon after the other (within the longest backoff pause), and when the last was. */
        int gapsInARow;
        Instant lastGapAt = Instant.MIN;

        Session(String userId, String roomId, String filterId, String since, Clock clock) {
            this.userId = userId;
            this.roomId = roomId;
            this.filterId = filterId;
            this.since = since;
            this.joinedAt = clock.instant();
            this.coveredAt = joinedAt;
            this.rereads = new Outage(log, Level.WARN, clock);
        }
    }

    /** The reading thread's loop and everything only it touches. */
    private final class Reading {
        private final Listener listener;
        /** The last good rules; empty until the first full read. */
        private Optional<RoomRules> rules = Optional.empty();
        private Optional<Session> session = Optional.empty();
        /** The failures being waited out, by {@link HomeserverFailure#condition()}; none while the source reads well. */
        private final Outage outage = new Outage(log, Level.WARN, settings.clock());
        /** The wait a 429 asked for, as last logged: the same failure asking for a far longer wait is news too. */
        private Duration loggedWait = Duration.ZERO;
        /** Whether the next connect resolves the configured alias afresh, rather than read the room it named last. */
        private boolean followAlias = true;
        /**
         * Whether the failures being waited out discarded the session (a removal from the room, a
         * refusal): reconnecting and reading the state again does not show that they are over, since a
         * bot kicked again at every join would otherwise start over at the shortest pause and log it
         * every time; a long-poll that completes does.
         */
        private boolean reconnecting;
        /** The room the last session read: an alias that names another room now is worth a line in the log. */
        private Optional<String> lastRoomId = Optional.empty();
        /** The room whose state {@link #rules} were last read whole from. */
        private Optional<String> rulesRoomId = Optional.empty();
        /**
         * Whether the listener may not hold the rules as they stand (it failed to take the last ones, or
         * a step failed after changing them): the next hand-over is then whole, and made even if a full
         * read finds the rules unchanged.
         */
        private boolean handOverWhole;
        /** Whether the listener failed to take the last hand-over: logged once a run of failures. */
        private final Outage listenerFailing = new Outage(log, Level.ERROR, settings.clock());

        Reading(Listener listener) {
            this.listener = listener;
        }

        void run() {
            while (!closed) {
                try {
                    succeeded(step());
                } catch (HomeserverFailure failure) {
                    if (closed || !pauseAfter(failure, Optional.empty())) {
                        return;
                    }
                } catch (InterruptedException stopped) {
                    return;
                } catch (RuntimeException | Error bug) {
                    // A bug or the heap running out, not the homeserver: logged with its stack trace, and the
                    // source starts again rather than end its thread while its status still shows the last success.
                    handOverWhole = true;
                    if (closed || !pauseAfter(HomeserverFailure.reconnect("unexpected error: " + bug), Optional.of(bug))) {
                        return;
                    }
                }
            }
        }

        /**
         * One call's worth of progress: connect and read the state, or read it again after a gap, or one sync.
         *
         * @return whether it was a long-poll that showed the bot reading the room (see {@link #sync})
         */
        private boolean step() throws HomeserverFailure, InterruptedException {
            if (redeliver) {
                redeliver = false;
                handOverWhole = true;
                rules.ifPresent(Reading.this::publish);
            }
            if (session.isEmpty()) {
                session = Optional.of(connect());
            }
            Session current = session.get();
            Instant now = settings.clock().instant();
            if (current.stateRead && !now.isBefore(current.stateReadAt.plus(settings.fullReadEvery()))) {
                log.debug("{}: reading the full state again, as every {}", RoomSource.this, settings.fullReadEvery());
                current.stateRead = false;
            }
            if (!current.stateRead && !now.isBefore(current.rereadAt)) {
                try {
                    readState(current);
                } catch (HomeserverFailure failure) {
                    if (!current.stateReadOnce || failure.next() != HomeserverFailure.Next.RETRY) {
                        throw failure;
                    }
                    rereadFailed(current, failure);
                    return sync(current);
                }
                current.rereads.worksAgain("{}: the full state reads again, after {} failed attempt(s) since {}", RoomSource.this);
                current.stateRead = true;
                current.stateReadOnce = true;
                current.fullReadOwed = false;
                current.stateReadAt = now;
                // from the read's end, not its start: a room whose read takes longer than STALE_TOKEN would
                // otherwise call for another read after every one. Events during the read are replayed
                // from the older token; only a raid of a thousand filtered events then hides them.
                current.coveredAt = settings.clock().instant();
                current.rereadAt = Instant.MIN;
                return false;
            }
            if (!now.isBefore(current.askAgainAt)) {
                askAgain(current);
            }
            return sync(current);
        }

        /**
         * How long the next sync may wait: its timeout, or less while a read of the whole state again is
         * due sooner; not at all from a {@linkplain #STALE_TOKEN stale token}, whose answer decides at
         * once whether to read the state again.
         */
        private Duration longPoll(Session current, Duration tokenAge) {
            if (tokenAge.compareTo(STALE_TOKEN) > 0) {
                return Duration.ZERO;
            }
            Instant due = current.stateRead ? current.askAgainAt : min(current.rereadAt, current.askAgainAt);
            if (due.equals(Instant.MAX)) {
                return settings.syncTimeout();
            }
            Duration until = Duration.between(settings.clock().instant(), due);
            return until.isNegative() ? Duration.ZERO : min(until, settings.syncTimeout());
        }

        /**
         * A read of the whole state again (hourly, or after a gap) failed where the state was read once
         * before: a large room's state can time out or outgrow {@code max-size} where its syncs still
         * work. The source goes on following the room's new events, so that new bans and withdrawals
         * still apply, and tries the full read again after the backoff pauses. The failure is counted,
         * and logged when its message changes.
         */
        private void rereadFailed(Session current, HomeserverFailure failure) {
            Outage.Failure failed = current.rereads.failed(failure.condition());
            Duration pause = pause(failure, failed.failures());
            // from the failure, not from the step's start: a full read can take minutes to fail
            current.rereadAt = settings.clock().instant().plus(pause);
            status = current.fullReadOwed ? status.failed(settings.clock().instant(), failure.getMessage()) : status.failedAside();
            failed.loud("{}: reading the room's whole state again failed: {}; following its new events meanwhile, "
                    + "and trying again in {}", RoomSource.this, failure.getMessage(), HomeserverFailure.format(pause));
        }

        private Session connect() throws HomeserverFailure, InterruptedException {
            String userId = homeserver.whoami();
            String room = settings.room();
            // An alias is followed at the start and when the bot was removed from its room, not at every
            // reconnect: a proxy's 404 must not move the source to a room the alias names meanwhile (an
            // upgraded room its curators have not filled yet), replacing every rule it had.
            boolean byAlias = room.startsWith("#") && (followAlias || lastRoomId.isEmpty());
            String roomId = !room.startsWith("#") ? room : byAlias ? resolve(room) : lastRoomId.get();
            if (!homeserver.isJoined(roomId, userId)) {
                try {
                    // joined by the alias only when following it: a join by alias joins whatever room it names now
                    // a room joined by its ID is that room, whatever the answer names
                    String joined = homeserver.join(byAlias ? room : roomId);
                    roomId = byAlias ? joined : roomId;
                } catch (HomeserverFailure refused) {
                    if (refused.status() == 403 || refused.status() == 404) {
                        // Out of the room it read and unable to join it again by its ID (banned, or a room of
                        // version 12 that the homeserver left, which has no server to join through): the bot
                        // was removed after all, so the next attempt follows the alias.
                        followAlias |= room.startsWith("#");
                        throw refused.explained("the bot " + userId + " is not in room " + room + " and may not join it");
                    }
                    throw refused;
                }
                log.info("{}: the bot {} joined the room", RoomSource.this, userId);
            }
            if (lastRoomId.isPresent() && !lastRoomId.get().equals(roomId)) {
                log.warn("{}: the alias now names room {}, no longer {}: its rules replace those of {}", RoomSource.this,
                        roomId, lastRoomId.get(), lastRoomId.get());
            }
            lastRoomId = Optional.of(roomId);
            followAlias = false;
            String filterId = homeserver.createFilter(userId, syncFilter(roomId));
            String since = homeserver.sync(Optional.empty(), tokenOnlyFilter(roomId), Duration.ZERO, roomId).nextBatch();
            Session session = new Session(userId, roomId, filterId, since, settings.clock());
            // Back in the room whose rules it holds (after a garbled sync, a refusal, a kick), the source
            // follows the room's new events even while its whole state cannot be read: a state too large
            // for max-size would otherwise stop every new ban and withdrawal until it could be.
            session.stateReadOnce = rules.isPresent() && rulesRoomId.equals(Optional.of(roomId));
            session.fullReadOwed = session.stateReadOnce;
            return session;
        }

        private String resolve(String alias) throws HomeserverFailure, InterruptedException {
            try {
                return homeserver.resolveAlias(alias);
            } catch (HomeserverFailure unknown) {
                throw unknown.status() == 404 ? unknown.explained("room alias " + alias + " does not exist") : unknown;
            }
        }

        /** The whole state, read afresh; an update only when it differs from the last good rules. */
        private void readState(Session current) throws HomeserverFailure, InterruptedException {
            readTombstone(current);
            RoomRules fresh = new RoomRules(name());
            homeserver.readState(current.roomId, fresh::apply);
            if (!fresh.sawCreate()) {
                throw HomeserverFailure.malformed("GET /rooms/{room}/state", "no m.room.create event, so no room's state");
            }
            boolean first = rules.isEmpty();
            if (first || handOverWhole || !fresh.sameAs(rules.get())) {
                rules = Optional.of(fresh); // handed over whole: a RoomRules read afresh lists no additions
                publish(fresh);
            }
            rulesRoomId = Optional.of(current.roomId);
            if (first) {
                log.info("{} read: {}", RoomSource.this, rules(fresh.ruleCount()));
            }
        }

        /**
         * One long-poll, and what it brings applied.
         *
         * @return whether it showed the bot reading the room: it brought the room's events, or the bot's
         *         membership was asked. A long-poll answered with nothing before the membership is asked
         *         again (within a sync timeout of a join) shows nothing: a bot kicked at every join
         *         completes such long-polls before its removal shows.
         */
        private boolean sync(Session current) throws HomeserverFailure, InterruptedException {
            Duration tokenAge = Duration.between(current.coveredAt, settings.clock().instant());
            long started = System.nanoTime();
            Duration wait = longPoll(current, tokenAge);
            SyncAnswer answer;
            try {
                answer = homeserver.sync(Optional.of(current.since), current.filterId, wait, current.roomId);
            } catch (HomeserverFailure failure) {
                if (failure.unusableAnswer()) {
                    // The same token would get the same answer: start from a new one, and read the state whole.
                    throw failure.reconnecting("; reading the room afresh");
                }
                throw failure;
            }
            if (answer.left().isPresent()) {
                // Synapse sends a room the bot just left with its events up to the removal: a last batch of rules
                apply(current, answer.left().get()); // what it kept: nothing of a section too long to keep
                throw removed(current);
            }
            current.since = answer.nextBatch();
            current.coveredAt = settings.clock().instant(); // the answer's token is of when it was written
            if (answer.joined().isEmpty()) {
                if (tokenAge.compareTo(STALE_TOKEN) > 0) {
                    log.debug("{}: no rule events since a token {} old, which proves nothing; reading the full state again",
                            RoomSource.this, tokenAge);
                    current.stateRead = false;
                }
                boolean asked = stillJoined(current);
                idleSince(started, wait);
                return asked;
            }
            SyncAnswer.Room joined = answer.joined().get();
            current.joinedAt = settings.clock().instant();
            if (joined.gap()) {
                // The events it kept are the room's newest, applied now rather than after the full read
                // (which can take a while, or fail): a limited answer's state section holds the net state
                // changes of the events it left out, its timeline what came after them.
                apply(current, joined);
                readAgainAfterGap(current);
                idleSince(started, wait);
                return true;
            }
            if (apply(current, joined) && upgrade.isPresent()) {
                readTombstone(current); // perhaps the tombstone's redaction, which empties it: asked, not tracked, it is that rare
            }
            return true;
        }

        /**
         * Applies one answer's events of the room, and hands the rules over if they changed.
         *
         * @return whether the timeline redacted anything
         */
        private boolean apply(Session current, SyncAnswer.Room events) throws InterruptedException {
            RoomRules room = rules.orElseThrow();
            boolean changed = false;
            for (JsonNode event : events.state()) {
                changed |= room.apply(event);
            }
            Set<String> redacted = new HashSet<>();
            for (JsonNode event : events.timeline()) {
                if (TOMBSTONE.equals(event.path("type").asString("")) && event.path("state_key").asString("-").isEmpty()) {
                    noticed(current.roomId, upgrade(current.roomId, event.path("content"), event.path("sender")));
                }
                if (event.has("state_key")) {
                    changed |= room.apply(event);
                } else {
                    PolicyEvents.redacts(event).ifPresent(redacted::add);
                }
            }
            // After the state events: event IDs are unique, so a redaction only ever empties the slot
            // of the very event it names, whichever came first in the timeline.
            Map<String, Slot> redactable = room.redactable(redacted);
            Collection<String> applied = applied(current, redactable.keySet());
            changed |= room.redact(redactable, applied);
            redactable.keySet().stream().filter(eventId -> !applied.contains(eventId))
                    .forEach(eventId -> waitForRedaction(current, eventId, 1));
            if (changed) {
                publish(room); // before any call that can fail: the rules changed, and the next sync will not say so again
            }
            return !redacted.isEmpty();
        }

        /**
         * Of the redactions of rule events in a timeline, those the homeserver applied. A redaction
         * reaches every member's timeline whether or not it took effect: one sent from a server that
         * lets its users redact what they may not (Synapse accepts it into the room, and applies it only
         * when its sender has the power or shares the event's server) would otherwise lift a ban until
         * the next full read, and could be sent again after each. Asked of the homeserver, one request
         * a redaction of a rule (rare); if it cannot say, all are taken as applied and the state is read
         * whole again, which settles it.
         */
        private Collection<String> applied(Session current, Collection<String> redactions) throws InterruptedException {
            Collection<String> applied = new HashSet<>();
            try {
                for (String eventId : redactions) {
                    if (homeserver.isRedacted(current.roomId, eventId)) {
                        applied.add(eventId);
                    } else {
                        log.info("{}: a redaction of {} that the homeserver did not apply is ignored until it does", RoomSource.this,
                                LogText.quoted(eventId));
                    }
                }
            } catch (HomeserverFailure failure) {
                log.debug("{}: could not ask whether redactions were applied ({}); reading the full state again",
                        RoomSource.this, failure.getMessage());
                current.stateRead = false;
                return redactions;
            }
            return applied;
        }

        /**
         * A gap calls for the whole state again: at once, unless gaps keep coming (a burst of rules
         * larger than the timeline limit, or a homeserver that flags every answer), each soon after the
         * last; then after the backoff's pauses, growing while they last, the syncs' events applied
         * meanwhile. Without this a room of a million rules would be read whole back to back.
         */
        private void readAgainAfterGap(Session current) {
            Instant now = settings.clock().instant();
            Pauses backoff = settings.backoff();
            if (now.isAfter(current.lastGapAt.plus(backoff.longest()))) {
                current.gapsInARow = 0;
            }
            current.lastGapAt = now;
            current.gapsInARow++;
            boolean readWaiting = !current.stateRead;
            current.stateRead = false;
            if (current.gapsInARow == 1) {
                log.debug("{}: a gap in the timeline; reading the full state again", RoomSource.this);
                return;
            }
            Duration pause = backoff.after(current.gapsInARow - 1);
            if (!readWaiting) {
                // a read already waiting keeps its time, due or not: each gap putting it off would starve it
                // while gaps come faster than the pause (or at each long-poll, cut to end when the read is
                // due), and a rule that reached the state in a gap would never apply
                current.rereadAt = now.plus(pause);
            }
            if (current.gapsInARow == GAPS_WORTH_A_WARNING) {
                log.warn("{}: the homeserver reports gaps in the room's timeline one after the other; reading the whole "
                        + "state again after pauses of {} and longer while they last, applying the new events meanwhile",
                        RoomSource.this, HomeserverFailure.format(pause));
            }
        }

        /**
         * After a long-poll of {@code wait} that began at {@code started} ({@link System#nanoTime}) and
         * brought nothing to apply, or a gap: waits out what is left of {@link #IDLE_SYNC_SPACING}, or of
         * half the long-poll if that is shorter, so that only an answer well before its time waits.
         */
        private void idleSince(long started, Duration wait) throws InterruptedException {
            long left = Math.min(IDLE_SYNC_SPACING.toNanos(), wait.toNanos() / 2) - (System.nanoTime() - started);
            if (left > 0) {
                Thread.sleep(Duration.ofNanos(left));
            }
        }

        /** Keeps a redaction the homeserver had not applied to ask about again, after the pause of as many failed attempts. */
        private void waitForRedaction(Session current, String eventId, int asked) {
            if (asked >= REDACTION_ASKS) {
                log.info("{}: the homeserver has not applied the redaction of {} after {} asks; the rule stays in force",
                        RoomSource.this, LogText.quoted(eventId), asked);
                return;
            }
            if (current.unappliedRedactions.size() >= REDACTIONS_WAITING) {
                current.unappliedRedactions.pollFirstEntry();
            }
            current.unappliedRedactions.put(eventId, asked);
            Instant at = settings.clock().instant().plus(settings.backoff().after(asked));
            current.askAgainAt = min(current.askAgainAt, at);
        }

        /**
         * Asks again about the redactions the homeserver had not applied: a rule whose redaction it
         * applies now is withdrawn. One that fails to be asked counts as not applied.
         */
        private void askAgain(Session current) throws InterruptedException {
            Map<String, Integer> waiting = new LinkedHashMap<>(current.unappliedRedactions);
            current.unappliedRedactions.clear();
            current.askAgainAt = Instant.MAX;
            RoomRules room = rules.orElseThrow();
            Collection<String> applied = new HashSet<>();
            for (Map.Entry<String, Integer> redaction : waiting.entrySet()) {
                try {
                    if (homeserver.isRedacted(current.roomId, redaction.getKey())) {
                        applied.add(redaction.getKey());
                        continue;
                    }
                } catch (HomeserverFailure failure) {
                    log.debug("{}: could not ask again whether {} was redacted: {}", RoomSource.this, redaction.getKey(), failure.getMessage());
                }
                waitForRedaction(current, redaction.getKey(), redaction.getValue() + 1);
            }
            if (room.redact(applied)) {
                log.info("{}: the homeserver has now applied the redaction of {}", RoomSource.this,
                        applied.stream().map(LogText::quoted).toList());
                publish(room);
            }
        }

        /** Reads the room's tombstone as it stands, as a full read does. */
        private void readTombstone(Session current) throws HomeserverFailure, InterruptedException {
            noticed(current.roomId, homeserver.tombstone(current.roomId).flatMap(content ->
                    upgrade(current.roomId, content, MissingNode.getInstance())));
        }

        /**
         * Records what the tombstone of the room being read says now, and logs it when it is news: the
         * source goes on reading that room, whatever the tombstone says (see {@link RoomUpgrade}). An
         * upgrade of another room (the one an alias named before) is dropped without a word.
         */
        private Optional<RoomUpgrade> upgrade(String roomId, JsonNode tombstone, JsonNode sender) {
            Optional<RoomUpgrade> upgrade = RoomUpgrade.of(roomId, tombstone, sender, settings.clock().instant());
            return settings.room().startsWith("#") ? upgrade.map(named -> named.namedBy(settings.room())) : upgrade;
        }

        private void noticed(String roomId, Optional<RoomUpgrade> now) {
            Optional<RoomUpgrade> known = upgrade;
            if (now.isEmpty()) {
                if (known.isPresent()) {
                    if (known.get().room().equals(roomId)) {
                        log.info("{}: room {} no longer announces an upgrade to {}", RoomSource.this, roomId,
                                known.get().replacementRoom());
                    }
                    upgrade = Optional.empty();
                }
                return;
            }
            if (known.isPresent() && known.get().sameAs(now.get())) {
                return; // the same upgrade, seen again by a full read: first seen when it was first seen
            }
            log.warn("{}: room {} was upgraded{}: {}", RoomSource.this, roomId,
                    now.get().sender().map(sender -> " by " + sender).orElse(""), now.get().advice());
            upgrade = now;
        }

        /**
         * After a long-poll with nothing for the room, asks whether the bot is still in it, once a sync
         * timeout at most. Synapse reports a room the bot was removed from (kicked, banned) only with
         * events the filter lets through, and the filter leaves member events out, so that a join raid
         * on a public policy room neither wakes the bot at every join nor fills its timeline until the
         * homeserver reports a gap (and a full read of the room follows). Removed, the bot gets nothing
         * more from the room: its next long-polls time out empty, and this notices within a sync timeout.
         *
         * @return whether the membership was asked (and is {@code join})
         */
        private boolean stillJoined(Session current) throws HomeserverFailure, InterruptedException {
            Instant now = settings.clock().instant();
            if (now.isBefore(current.joinedAt.plus(settings.syncTimeout()))) {
                return false;
            }
            // a definite answer only: a failure to answer (a proxy's 404) is retried, not taken for a removal
            if (!homeserver.membership(current.roomId, current.userId).filter("join"::equals).isPresent()) {
                throw removed(current);
            }
            current.joinedAt = now;
            return true;
        }

        private HomeserverFailure removed(Session current) {
            followAlias = true;
            return HomeserverFailure.reconnect("the bot " + current.userId + " is no longer in room " + settings.room());
        }

        /**
         * Hands the rules over: with what changed in the last ones handed over, when the listener took
         * those and the changes are known; else whole.
         */
        private void publish(RoomRules room) {
            Optional<RuleChanges> changes = room.takeChanges();
            try {
                if (changes.isPresent() && !handOverWhole) {
                    listener.changed(RoomSource.this, room.rules(), changes.get(), room.skipped());
                } else {
                    listener.updated(RoomSource.this, room.rules(), room.skipped());
                }
                handOverWhole = false;
            } catch (RuntimeException | Error bug) {
                redeliver = true; // at the next step, whole, rather than at the next change
                listenerFailing.failed().loud("{}: the listener failed to take an update; handing it over again at each step "
                        + "until it does", RoomSource.this, bug);
                handOverWhole = true;
                return;
            }
            listenerFailing.worksAgain("{}: the listener took the rules again", RoomSource.this);
        }

        /**
         * @param readingShown whether the step was a long-poll that showed the bot reading the room,
         *                     which alone ends failures that made the source reconnect
         */
        private void succeeded(boolean readingShown) {
            Instant now = settings.clock().instant();
            status = session.filter(current -> current.fullReadOwed).isPresent() ? status.followed(now) : status.succeeded(now);
            if (reconnecting && !readingShown) {
                return;
            }
            reconnecting = false;
            outage.worksAgain("{} reads again, after {} failed attempt(s) since {}", RoomSource.this);
        }

        /**
         * Records the failure, logs it if it is news, and pauses before the next attempt.
         *
         * @param bug the exception behind an unexpected failure, whose stack trace the log line carries
         * @return false when the pause was interrupted: the source is closing
         */
        private boolean pauseAfter(HomeserverFailure failure, Optional<Throwable> bug) {
            // the same 429, asking the bot to wait far longer than the last logged: the admin should know why it is quiet
            Duration asked = failure.retryAfter().orElse(Duration.ZERO);
            Outage.Failure failed = outage.failed(failure.condition()).newsIf(asked.compareTo(loggedWait.multipliedBy(2)) > 0);
            if (failure.next() != HomeserverFailure.Next.RETRY) {
                session = Optional.empty();
                reconnecting = true;
            }
            Duration pause = pause(failure, failed.failures());
            String error = failure.getMessage();
            status = status.failed(settings.clock().instant(), error);
            if (failed.news()) {
                loggedWait = asked;
            }
            failed.loud("{} could not be read, {}: {}; retrying in {}", RoomSource.this, kept(), error,
                    HomeserverFailure.format(pause), bug.orElse(null));
            failed.quiet("{} still fails ({} attempts): {}", RoomSource.this, failed.failures(), error);
            try {
                Thread.sleep(pause);
                return true;
            } catch (InterruptedException stopped) {
                return false;
            }
        }

        /** The pause after a failure, the how-many-th in a row: the backoff's, or the longer wait a 429 asks for, within a cap. */
        private Duration pause(HomeserverFailure failure, long failures) {
            Pauses backoff = settings.backoff();
            Duration pause = failure.next() == HomeserverFailure.Next.RECONNECT_SLOWLY ? backoff.longest()
                    : backoff.after((int) Math.min(failures, Integer.MAX_VALUE));
            Duration asked = failure.retryAfter().orElse(Duration.ZERO);
            if (asked.compareTo(pause) > 0) {
                // a homeserver may not silence the source for years: a wait past the cap is retried at the cap
                pause = min(asked, max(backoff.longest(), LONGEST_RETRY_AFTER));
            }
            return pause;
        }

        private String kept() {
            return rules.map(room -> "keeping its last good rules (" + rules(room.ruleCount()) + ")").orElse("no rules read yet");
        }
    }

    /** The long-poll's filter: the room's rule events, their redactions and its tombstone, nothing else. */
    static ObjectNode syncFilter(String roomId) {
        ObjectNode filter = nothingBut(roomId);
        ObjectNode room = (ObjectNode) filter.get("room");
        ArrayNode stateTypes = room.putObject("state").putArray("types");
        ObjectNode timeline = room.putObject("timeline");
        timeline.put("limit", TIMELINE_LIMIT);
        ArrayNode timelineTypes = timeline.putArray("types");
        for (String type : EntityKind.eventTypes()) {
            stateTypes.add(type);
            timelineTypes.add(type);
        }
        // No member events: see Reading.stillJoined for how the bot learns that it was removed.
        // A redacted rule is withdrawn; its redaction is no state event, so only the timeline has it.
        timelineTypes.add("m.room.redaction");
        // An upgrade of the room (its tombstone) is reported.
        timelineTypes.add(TOMBSTONE);
        return filter;
    }

    /**
     * The first sync's filter: no events at all, only the token that the long-polls start from.
     *
     * <p>It must be a token of now. Synapse keeps each sync answer for two minutes
     * ({@code sync_response_cache_duration}) under the request's since, timeout and filter; a bot that
     * reconnects (kicked, or the gateway restarted) would get its previous connect's token, and replay
     * on top of the fresh state every rule event since, briefly bringing back withdrawn rules. So the
     * filter also leaves out a room that cannot exist, named afresh at each connect.
     */
    static String tokenOnlyFilter(String roomId) {
        ObjectNode filter = nothingBut(roomId);
        ObjectNode room = (ObjectNode) filter.get("room");
        room.putArray("not_rooms").add("!" + UUID.randomUUID() + ":fresh-token.invalid");
        room.set("state", excludeAll());
        room.set("timeline", excludeAll().put("limit", 1));
        return JSON.writeValueAsString(filter);
    }

    /** A filter of the one room, with presence, account data and ephemeral events left out. */
    private static ObjectNode nothingBut(String roomId) {
        ObjectNode filter = JSON.createObjectNode();
        filter.set("presence", excludeAll());
        filter.set("account_data", excludeAll());
        ObjectNode room = filter.putObject("room");
        room.putArray("rooms").add(roomId);
        room.set("ephemeral", excludeAll());
        room.set("account_data", excludeAll());
        return filter;
    }

    private static ObjectNode excludeAll() {
        ObjectNode none = JSON.createObjectNode();
        none.putArray("not_types").add("*");
        return none;
    }

    /** How every log line names the source, as the file and URL sources do: {@code Policy list source 'community' (#bans:example.org)}. */
    @Override
    public String toString() {
        return "Policy list source '" + name() + "' (" + settings.room() + ")";
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String rules(int count) {
        return count + (count == 1 ? " rule" : " rules");
    }
}
