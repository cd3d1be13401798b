package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.outage.Outage;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Slot;
import dev.matrixpolicy.gateway.replies.Durations;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import tools.jackson.databind.JsonNode;

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
 *
 * <p>This class is the reading thread's loop: the full reads, the long-polls, the gaps, the pauses
 * after failures and the status. Its parts each do one job: {@link BotMembership} (whoami, the
 * alias, the join, the first token; still joined?), {@link SyncFilter}, {@link UnappliedRedactions},
 * {@link Tombstone} (the room's upgrade) and {@link HandOver} (the rules to the listener).
 */
public final class RoomSource implements PolicySource {
    /** The logger of the source and of its parts: their lines are its own, under one name to configure. */
    static final Logger LOG = LoggerFactory.getLogger(RoomSource.class);
    private static final Logger log = LOG;
    /**
     * How old a sync's token may be before an answer without the room no longer proves that nothing
     * changed. Synapse looks back some thousand events from now for ones the filter keeps (1.157's
     * {@code _load_filtered_recents}); finding none, it leaves the room out with no {@code limited}
     * flag, even when a rule event lies further back. Long-polling, a token is a few milliseconds old;
     * after a failed sync's pause or a long full read it may be minutes, and a member raid can pass a
     * thousand events in that time.
     */
    static final Duration STALE_TOKEN = Duration.ofSeconds(5);
    /**
     * The least time from one sync to the next when an answer changed no rule (it brought nothing, or
     * the same events again), or a gap: a homeserver (or proxy) that answers every long-poll at once,
     * or whose token never advances, would otherwise spin the source, and the homeserver with it.
     * Answers that change the rules are taken at once, so rules never wait for it.
     */
    static final Duration IDLE_SYNC_SPACING = Duration.ofMillis(250);
    /** How many gaps in a row, each a full read, are worth a WARN line: the room is read at the backoff's pace meanwhile. */
    static final int GAPS_WORTH_A_WARNING = 3;
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
    /** The room's upgrade, as its tombstone last said. */
    private final Tombstone tombstone;
    /** Set by {@link #redeliver}: the reading thread hands its rules over again after its current call. */
    private volatile boolean redeliver;
    private volatile boolean closed;
    private Thread reader;

    public RoomSource(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.homeserver = new ClientServerApi(settings.homeserver(), settings.accessToken(), settings.requestTimeout(),
                new ReplyCap("max-size", settings.maxReplySize()));
        this.tombstone = new Tombstone(this, settings.room(), settings.clock());
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
        return tombstone.upgrade();
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
                    log.warn("{}: its reading thread did not stop within {}", this, Durations.format(CLOSE_WAIT));
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Where the reading stands: the room joined, the filter stored, the sync token. Empty until connected. */
    static final class Session {
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
         * works the source shows its failure, though it follows the room's new events meanwhile. So
         * with rule events a sync brought that the rules could not take, past {@code max-size}.
         */
        boolean fullReadOwed;
        /** Reads of the whole state again that failed in a row, and when to try the next. */
        final Outage rereads;
        Instant rereadAt = Instant.MIN;
        /** When the bot was last known to be in the room. */
        Instant joinedAt;
        /** Until when the rules are known to be the room's: {@link #since} was taken, or the state read whole, then. */
        Instant coveredAt;
        /** Redactions of rules the homeserver had not applied when asked, to ask about again. */
        final UnappliedRedactions redactions;
        /** Gaps reported one soon after the other (within the longest backoff pause), and when the last was. */
        int gapsInARow;
        Instant lastGapAt = Instant.MIN;

        Session(String userId, String roomId, String filterId, String since, Clock clock, UnappliedRedactions redactions) {
            this.userId = userId;
            this.roomId = roomId;
            this.filterId = filterId;
            this.since = since;
            this.joinedAt = clock.instant();
            this.coveredAt = joinedAt;
            this.rereads = new Outage(log, Level.WARN, clock);
            this.redactions = redactions;
        }
    }

    /** The reading thread's loop and everything only it touches. */
    private final class Reading {
        private final HandOver handOver;
        private final BotMembership membership = new BotMembership(RoomSource.this, homeserver, settings);
        /** The last good rules; empty until the first full read. */
        private Optional<RoomRules> rules = Optional.empty();
        private Optional<Session> session = Optional.empty();
        /** The failures being waited out, by {@link HomeserverFailure#condition()}; none while the source reads well. */
        private final Outage outage = new Outage(log, Level.WARN, settings.clock());
        /** The wait a 429 asked for, as last logged: the same failure asking for a far longer wait is news too. */
        private Duration loggedWait = Duration.ZERO;
        /**
         * Whether the failures being waited out discarded the session (a removal from the room, a
         * refusal): reconnecting and reading the state again does not show that they are over, since a
         * bot kicked again at every join would otherwise start over at the shortest pause and log it
         * every time; a long-poll that completes does.
         */
        private boolean reconnecting;
        /** The room whose state {@link #rules} were last read whole from. */
        private Optional<String> rulesRoomId = Optional.empty();

        Reading(Listener listener) {
            this.handOver = new HandOver(RoomSource.this, listener, settings.clock());
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
                    handOver.wholeNext();
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
                handOver.wholeNext();
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
            if (!now.isBefore(current.redactions.askAgainAt())) {
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
            Instant askAgainAt = current.redactions.askAgainAt();
            Instant due = current.stateRead ? askAgainAt : min(current.rereadAt, askAgainAt);
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
                    + "and trying again in {}", RoomSource.this, failure.getMessage(), Durations.format(pause));
        }


        private Session connect() throws HomeserverFailure, InterruptedException {
            Session session = membership.connect();
            String roomId = session.roomId;
            // Back in the room whose rules it holds (after a garbled sync, a refusal, a kick), the source
            // follows the room's new events even while its whole state cannot be read: a state too large
            // for max-size would otherwise stop every new ban and withdrawal until it could be.
            session.stateReadOnce = rules.isPresent() && rulesRoomId.equals(Optional.of(roomId));
            session.fullReadOwed = session.stateReadOnce;
            return session;
        }

        /** The whole state, read afresh; an update only when it differs from the last good rules. */
        private void readState(Session current) throws HomeserverFailure, InterruptedException {
            RoomRules fresh = new RoomRules(name(), settings.maxReplySize());
            homeserver.readState(current.roomId, fresh::apply);
            if (!fresh.sawCreate()) {
                throw HomeserverFailure.malformed("GET /rooms/{room}/state", "no m.room.create event, so no room's state");
            }
            if (fresh.takeRefused()) { // not for a state within max-size: a rule costs no more than its event
                throw HomeserverFailure.malformed("GET /rooms/{room}/state", "rules larger than max-size");
            }
            boolean first = rules.isEmpty();
            if (first || handOver.isWholeNext() || !fresh.sameAs(rules.get())) {
                rules = Optional.of(fresh); // handed over whole: a RoomRules read afresh lists no additions
                publish(fresh);
            }
            rulesRoomId = Optional.of(current.roomId);
            if (first) {
                log.info("{} read: {}", RoomSource.this, rules(fresh.ruleCount()));
            }
            readTombstone(current);
        }

        /**
         * Reads the room's tombstone after its rules: the upgrade it announces is reported, never
         * followed, so a failed read leaves the upgrade last known in place and keeps no rule waiting.
         */
        private void readTombstone(Session current) throws InterruptedException {
            try {
                tombstone.read(homeserver, current.roomId);
            } catch (HomeserverFailure failure) {
                log.warn("{}: reading the tombstone of room {} failed: {}; an upgrade it announces is reported once a read succeeds",
                        RoomSource.this, current.roomId, failure.getMessage());
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
                throw membership.removed(current);
            }
            current.since = answer.nextBatch();
            current.coveredAt = settings.clock().instant(); // the answer's token is of when it was written
            if (answer.joined().isEmpty()) {
                if (tokenAge.compareTo(STALE_TOKEN) > 0) {
                    log.debug("{}: no rule events since a token {} old, which proves nothing; reading the full state again",
                            RoomSource.this, tokenAge);
                    current.stateRead = false;
                }
                BotMembership.Membership found = membership.check(current);
                if (found == BotMembership.Membership.REMOVED) {
                    applyLastEvents(current);
                    throw membership.removed(current);
                }
                idleSince(started, wait);
                return found == BotMembership.Membership.JOINED;
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
            Applied applied = apply(current, joined);
            if (applied.redacted() && tombstone.upgrade().isPresent()) {
                readTombstone(current); // perhaps the tombstone's redaction, which empties it: asked, not tracked, it is that rare
            }
            if (!applied.changed()) {
                // events that change nothing, at once, are an answer with nothing new: a homeserver whose token
                // does not advance replays the same events at every long-poll, which must not spin the source
                idleSince(started, wait);
            }
            return true;
        }

        /**
         * The room's events since the last answer, up to the bot's removal, which the membership showed
         * before a sync did (the removal came just after the last long-poll's answer was written): the
         * rules sent just before it still apply. A failure to read them leaves the rules as they were.
         */
        private void applyLastEvents(Session current) throws InterruptedException {
            try {
                SyncAnswer answer = homeserver.sync(Optional.of(current.since), current.filterId, Duration.ZERO, current.roomId);
                Optional<SyncAnswer.Room> events = answer.left().or(answer::joined);
                if (events.isPresent()) {
                    apply(current, events.get());
                }
            } catch (HomeserverFailure unread) {
                log.debug("{}: the events before the bot's removal could not be read: {}", RoomSource.this, unread.getMessage());
            }
        }

        /**
         * What one answer's events did.
         *
         * @param changed  whether the rules changed (and were handed over)
         * @param redacted whether the timeline redacted anything
         */
        private record Applied(boolean changed, boolean redacted) {
        }

        /** Applies one answer's events of the room, and hands the rules over if they changed. */
        private Applied apply(Session current, SyncAnswer.Room events) throws InterruptedException {
            RoomRules room = rules.orElseThrow();
            boolean changed = false;
            for (JsonNode event : events.state()) {
                changed |= room.apply(event);
            }
            Set<String> redacted = new HashSet<>();
            for (JsonNode event : events.timeline()) {
                tombstone.sawInTimeline(current.roomId, event);
                if (event.has("state_key")) {
                    changed |= room.apply(event);
                } else {
                    PolicyEvents.redacts(event).ifPresent(redacted::add);
                }
            }
            if (room.takeRefused()) {
                // The rules would outgrow what a full read may hold: those held stay in force, and the full
                // read, which fails as too large until the room shrinks, shows the failure meanwhile.
                current.stateRead = false;
                current.fullReadOwed = true;
            }
            if (changed) {
                // before any call that can fail or wait (the redactions' questions, each up to the request
                // timeout): the rules changed, and the next sync will not say so again
                publish(room);
            }
            // After the state events: event IDs are unique, so a redaction only ever empties the slot
            // of the very event it names, whichever came first in the timeline.
            Map<String, Slot> redactable = room.redactable(redacted);
            Optional<Collection<String>> applied = current.redactions.applied(redactable.keySet());
            if (applied.isEmpty()) {
                // The homeserver could not say: the rules stay in force until the state, read whole, settles it.
                // Taken as applied, a redaction sent without the power to redact would lift a ban meanwhile.
                current.stateRead = false;
            }
            if (room.redact(redactable, applied.orElse(List.of()))) {
                publish(room);
                changed = true;
            }
            return new Applied(changed, !redacted.isEmpty());
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
                        RoomSource.this, Durations.format(pause));
            }
        }

        /**
         * After a long-poll of {@code wait} that began at {@code started} ({@link System#nanoTime}) and
         * changed no rule, or a gap: waits out what is left of {@link #IDLE_SYNC_SPACING}, or of
         * half the long-poll if that is shorter, so that only an answer well before its time waits.
         */
        private void idleSince(long started, Duration wait) throws InterruptedException {
            long left = Math.min(IDLE_SYNC_SPACING.toNanos(), wait.toNanos() / 2) - (System.nanoTime() - started);
            if (left > 0) {
                Thread.sleep(Duration.ofNanos(left));
            }
        }





        /** Asks again about the redactions the homeserver had not applied: a rule whose redaction it applies now is withdrawn. */
        private void askAgain(Session current) throws InterruptedException {
            RoomRules room = rules.orElseThrow();
            Collection<String> applied = current.redactions.askAgain();
            if (room.redact(applied)) {
                log.info("{}: the homeserver has now applied the redaction of {}", RoomSource.this,
                        applied.stream().map(LogText::quoted).toList());
                publish(room);
            }
        }

        /** Hands the rules over ({@link HandOver}); a hand-over the listener failed to take is made again at the next step. */
        private void publish(RoomRules room) {
            if (!handOver.publish(room)) {
                redeliver = true; // at the next step, whole, rather than at the next change
            }
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
                    Durations.format(pause), bug.orElse(null));
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
