package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckLoginForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckRegistrationForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckUsernameForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.FederatedUserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.ShouldDropFederatedEvent;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoomAlias;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayPublishRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.matrix.ServerNames;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.outage.Outage;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyEvents;
import dev.matrixpolicy.gateway.policylist.PolicyIndex;
import dev.matrixpolicy.gateway.policylist.PolicyIndex.Bans;
import dev.matrixpolicy.gateway.policylist.PolicyIndex.Query;
import dev.matrixpolicy.gateway.policylist.PolicyListView;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.RuleChanges;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.policylist.UrlSource;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code policy_list} instance: answers the spam-checker callbacks from its sources' rules. Each
 * source updates on its own thread; its new rules are compiled on the instance's one compiler thread
 * and the index swapped in whole, so a request never waits for an update and never sees half of one.
 */
final class PolicyList implements PolicyModule, PolicyListView, UserMayInvite, FederatedUserMayInvite,
        UserMayJoinRoom, UserMayCreateRoom, UserMayCreateRoomAlias, UserMaySendStateEvent, UserMayPublishRoom, CheckLoginForSpam,
        CheckRegistrationForSpam, CheckUsernameForSpam, CheckEventForSpam, ShouldDropFederatedEvent {
    private static final Logger log = LoggerFactory.getLogger(PolicyList.class);
    /** The most characters of a rule's reason a refusal shows a user (with {@code show-reason}). */
    private static final int LONGEST_REASON_SHOWN = 500;

    /** The callbacks this module can take part in, in the order of the Synapse docs. */
    static final List<CallbackType<?, ?, ?>> SUPPORTED = List.of(
            CheckEventForSpam.TYPE, UserMayJoinRoom.TYPE, UserMayInvite.TYPE, UserMayCreateRoom.TYPE,
            UserMayCreateRoomAlias.TYPE, UserMayPublishRoom.TYPE, CheckUsernameForSpam.TYPE, CheckRegistrationForSpam.TYPE,
            ShouldDropFederatedEvent.TYPE, CheckLoginForSpam.TYPE, UserMaySendStateEvent.TYPE,
            FederatedUserMayInvite.TYPE);

    /**
     * One source and what it applies to. Position 0 is the allow list.
     *
     * @param kinds     the entity kinds taken from it
     * @param callbacks the callbacks it applies to; empty for all
     * @param rooms     the rooms it applies to; empty for all. A source scoped to rooms applies only to
     *                  callbacks about one of them, never to those about no room (creating a room, logging in)
     * @param source    the source itself; empty for the allow list
     */
    record Slot(String name, String kind, String location, Set<EntityKind> kinds, Set<CallbackType<?, ?, ?>> callbacks,
                Set<String> rooms, Optional<PolicySource> source) {
        boolean applies(CallbackType<?, ?, ?> callback, Optional<String> room) {
            return (callbacks.isEmpty() || callbacks.contains(callback))
                    && (rooms.isEmpty() || room.map(rooms::contains).orElse(false));
        }

        /** Where the source reads, as the status pages show it: a URL without its query, which may hold a token. */
        String shownLocation() {
            return kind.equals("url") ? UrlSource.shown(URI.create(location)) : location;
        }
    }

    /**
     * What a refusal says, how a match is counted and logged, and whom only exact rules refuse.
     *
     * @param protectedServers server names whose users, rooms and aliases only a ban naming them exactly
     *                         (their ID or its hash) refuses: no glob and no server rule, so that no
     *                         list can lock out a whole homeserver (its own, say). Kept in lower case
     *                         and without a trailing dot, as {@link #isProtected} compares them
     */
    record Answers(String instanceName, String serverName, Rejection rejection, boolean showReason,
                   RegistrationBehaviour registration, boolean checkInvitee, boolean takedownBans,
                   Set<String> protectedServers) {
        Answers {
            protectedServers = protectedServers.stream().map(Answers::canonical).collect(Collectors.toUnmodifiableSet());
        }

        /** Whether an ID (a user ID, a room ID or alias) is on a protected server, under any of its names. */
        boolean isProtected(String id) {
            return !protectedServers.isEmpty() && protects(Servers.of(id));
        }

        /** Whether a server is protected, under any of the names {@link Servers} gives it. */
        boolean protects(List<String> names) {
            return !protectedServers.isEmpty() && names.stream().map(Answers::canonical).anyMatch(protectedServers::contains);
        }

        private static String canonical(String server) {
            return ServerNames.withoutTrailingDot(ServerNames.canonical(server));
        }
    }

    /**
     * @param staleAfter   how long a source may go without a good read before it counts as stale
     * @param requireFresh whether a stale source (or one whose first read failed, or has gone on for
     *                     {@code staleAfter}) makes the gateway unready
     */
    record Freshness(Duration staleAfter, boolean requireFresh) {
    }

    private final List<Slot> slots;
    private final Set<CallbackType<?, ?, ?>> enabled;
    private final Answers answers;
    private final Freshness freshness;
    private final Instant started;
    private final PolicyListMetrics metrics;
    /** Each source's state, at its position. */
    private final List<SlotState> states;
    private final Compiler compiler;
    private volatile PolicyIndex index;

    /** The instance a reload built to replace this one, which may still serve rules it took over from this one; null before. */
    private volatile Successor successor;
    /** Set first by {@link #close()}: a later instance's close no longer keeps series for this one. */
    private volatile boolean closed;

    /**
     * A successor, held weakly so that one the reload abandoned is not kept, and for each of this
     * instance's sources the position of the one it took over there, or -1.
     */
    private record Successor(WeakReference<PolicyList> list, int[] positions) {
    }

    /**
     * @param predecessor the instance a reload replaces with this one: each source configured alike in
     *                    both (name, where it reads, the kinds taken, takedowns) serves the rules the
     *                    predecessor holds, and each update the predecessor reads, until its own first
     *                    read, instead of none
     */
    PolicyList(List<Slot> slots, Collection<PolicyRule> allow, Set<CallbackType<?, ?, ?>> enabled, Answers answers,
               Freshness freshness, Instant started, PolicyListMetrics metrics, Optional<PolicyList> predecessor) {
        this.slots = List.copyOf(slots);
        this.enabled = Set.copyOf(enabled);
        this.answers = answers;
        this.freshness = freshness;
        this.started = started;
        this.metrics = metrics;
        this.states = slots.stream().map(slot -> new SlotState(log)).toList();
        this.compiler = new Compiler(this, this.slots, states, answers, metrics);
        List<PolicyIndex.Source> initial = new ArrayList<>();
        for (Slot slot : slots) {
            initial.add(new PolicyIndex.Source(slot.name(), slot.source().isEmpty() ? allow : List.of()));
        }
        this.index = PolicyIndex.compile(initial);
        metrics.watch(this);
        predecessor.ifPresent(this::takeOver); // last: the predecessor's compiler thread may call this one from now on
    }

    /**
     * Takes over, for each source the predecessor reads from the same place, the rules it holds now, and
     * has it hand on every later update of them until this instance's own source has read: a ban read
     * between this instance's build and its own first read is in force here too. A source whose
     * {@code kinds} changed, or an instance whose {@code takedown} did, takes the predecessor's rules
     * through its own filter (compiled here, once), not none: a reload while the homeserver is down
     * must not lift every ban until the source reads again.
     */
    private void takeOver(PolicyList predecessor) {
        int[] positions = new int[predecessor.slots.size()];
        Arrays.fill(positions, -1);
        for (int position = 1; position < slots.size(); position++) {
            Slot slot = slots.get(position);
            for (int before = 1; before < predecessor.slots.size(); before++) {
                Slot old = predecessor.slots.get(before);
                if (old.name().equals(slot.name()) && old.kind().equals(slot.kind()) && old.location().equals(slot.location())) {
                    index = takenFrom(position, predecessor, before);
                    PolicySource.Status theirs = predecessor.status(before);
                    states.get(position).inherited = theirs.lastSuccess().orElse(null);
                    states.get(position).failuresBefore = theirs.failures(); // the failures counter goes on from theirs
                    positions[before] = position;
                }
            }
        }
        predecessor.successor = new Successor(new WeakReference<>(this), positions);
        // what the predecessor compiled between the adoption above and that write, it handed on to nobody
        for (int before = 1; before < positions.length; before++) {
            predecessor.handOn(before);
        }
    }

    /** Tells the successor that the rules of one source changed here, if it took that source over. */
    void handOn(int position) {
        Successor next = successor;
        PolicyList list = next == null ? null : next.list.get();
        if (list != null && next.positions[position] >= 0) {
            list.inherit(next.positions[position], this, position);
        }
    }

    /**
     * Serves the predecessor's rules of a source as they are when this instance's compiler thread
     * gets to it (so that calls handled out of order cannot bring older rules back), unless this
     * instance's own source has read by then; and tells this instance's own successor in turn.
     */
    private void inherit(int position, PolicyList from, int fromPosition) {
        SlotState state = states.get(position);
        if (!state.queueInheriting()) {
            return; // one queued already, which will take the predecessor's rules as they are when it runs
        }
        compiler.queue(() -> {
            state.inheritingRuns();
            if (!state.ownRulesCompiled) {
                index = takenFrom(position, from, fromPosition);
                state.inherited = from.status(fromPosition).lastSuccess().orElse(null);
                handOn(position);
            }
        });
    }

    /**
     * This index with a source's rules as the predecessor {@code from} holds them: shared as compiled
     * there where both keep the same kinds and recommendations, else compiled again through this
     * instance's filter.
     */
    private PolicyIndex takenFrom(int position, PolicyList from, int fromPosition) {
        Slot slot = slots.get(position);
        PolicyIndex theirs = from.index;
        if (from.slots.get(fromPosition).kinds().equals(slot.kinds()) && from.answers.takedownBans() == answers.takedownBans()) {
            return index.adopt(position, theirs, fromPosition);
        }
        PolicyIndex filtered = states.get(position).filteredFrom;
        if (filtered != null && theirs.sameSource(fromPosition, filtered, fromPosition)) {
            return index; // compiled from these very rules already: the predecessor changed another source
        }
        PolicyIndex taken = index.replace(position, new PolicyIndex.Source(slot.name(),
                new Kept(theirs.rules(fromPosition), slot.kinds(), answers.takedownBans())));
        states.get(position).filteredFrom = theirs;
        return taken;
    }

    /**
     * A source's health; until it has read, the time of its predecessor's last good read, whose rules
     * serve meanwhile.
     */
    PolicySource.Status status(int position) {
        return states.get(position).status(slots.get(position).source().map(PolicySource::status).orElse(PolicySource.Status.STARTING));
    }

    /**
     * Starts every source reading, and returns once the rules its files handed over in their first read
     * (made as they start) are in force: so that a new gateway, whose ports open once its instances are
     * built, answers no question before its local lists apply, whoever asks.
     */
    void start() {
        for (int position = 0; position < slots.size(); position++) {
            int at = position;
            slots.get(position).source().ifPresent(source -> source.start(new PolicySource.Listener() {
                @Override
                public void updated(PolicySource from, Collection<PolicyRule> rules, Map<PolicyEvents.Skipped, Integer> skipped) {
                    compiler.updated(at, rules, null, skipped);
                }

                @Override
                public void changed(PolicySource from, Collection<PolicyRule> rules, RuleChanges changes,
                                    Map<PolicyEvents.Skipped, Integer> skipped) {
                    compiler.updated(at, rules, changes, skipped);
                }
            }));
        }
        compiler.drain();
    }

    /**
     * Waits until the updates its sources handed over so far are compiled: in force, or their compile
     * failed, and said so. Tests wait on it.
     */
    void awaitCompiled() {
        compiler.drain();
    }

    PolicyIndex index() {
        return index;
    }

    /** Puts a new index in force: on the compiler thread only, once the instance is built. */
    void serve(PolicyIndex next) {
        index = next;
    }

    /** Sets how long after a source's last added rules their layer is folded in, for tests that cannot wait for {@link Compiler#FOLD_AFTER}. */
    void foldAfter(Duration delay) {
        compiler.foldAfter(delay);
    }

    List<Slot> slots() {
        return slots;
    }

    @Override
    public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        return enabled.contains(callback) ? PolicyModule.super.implementation(callback) : Optional.empty();
    }

    @Override
    public boolean mayBlock() {
        return false; // lookups in an in-memory index
    }

    // ---- the callbacks

    @Override
    public SpamVerdict userMayInvite(UserMayInvite.Args args) {
        Optional<String> room = Optional.of(args.roomId());
        return refusal(UserMayInvite.TYPE, room, user(args.inviter()), room(args.roomId()),
                answers.checkInvitee() ? user(args.invitee()) : List.of());
    }

    @Override
    public SpamVerdict federatedUserMayInvite(FederatedUserMayInvite.Args args) {
        Optional<String> room = Optional.of(args.event().roomId());
        return refusal(FederatedUserMayInvite.TYPE, room, user(args.event().sender()), room(args.event().roomId()),
                answers.checkInvitee() ? args.event().stateKey().map(this::user).orElse(List.of()) : List.of());
    }

    @Override
    public SpamVerdict userMayJoinRoom(UserMayJoinRoom.Args args) {
        return refusal(UserMayJoinRoom.TYPE, Optional.of(args.room()), user(args.user()), room(args.room()));
    }

    /** The user, and the alias the new room would get ({@code room_alias_name}, on this server), if any. */
    @Override
    public SpamVerdict userMayCreateRoom(UserMayCreateRoom.Args args) {
        Optional<String> alias = args.roomConfig().map(config -> config.path("room_alias_name"))
                .filter(name -> name.isString())
                .map(name -> "#" + name.stringValue() + ":" + answers.serverName())
                .filter(candidate -> isValid(MatrixIds::roomAliasAsSynapseTakesIt, candidate));
        return refusal(UserMayCreateRoom.TYPE, Optional.empty(), user(args.userId()), alias.map(this::alias).orElse(List.of()));
    }

    /** The user, and the alias; the callback does not say which room the alias would name. */
    @Override
    public SpamVerdict userMayCreateRoomAlias(UserMayCreateRoomAlias.Args args) {
        return refusal(UserMayCreateRoomAlias.TYPE, Optional.empty(), user(args.userId()), alias(args.roomAlias()));
    }

    @Override
    public SpamVerdict userMaySendStateEvent(UserMaySendStateEvent.Args args) {
        return refusal(UserMaySendStateEvent.TYPE, Optional.of(args.roomId()), user(args.userId()), room(args.roomId()));
    }

    @Override
    public SpamVerdict userMayPublishRoom(UserMayPublishRoom.Args args) {
        return refusal(UserMayPublishRoom.TYPE, Optional.of(args.roomId()), user(args.userId()), room(args.roomId()));
    }

    @Override
    public SpamVerdict checkLoginForSpam(CheckLoginForSpam.Args args) {
        return refusal(CheckLoginForSpam.TYPE, Optional.empty(), user(args.userId()));
    }

    @Override
    public SpamVerdict checkEventForSpam(CheckEventForSpam.Args args) {
        return refusal(CheckEventForSpam.TYPE, Optional.of(args.event().roomId()), user(args.event().sender()));
    }

    @Override
    public RegistrationBehaviour checkRegistrationForSpam(CheckRegistrationForSpam.Args args) {
        if (args.username().isEmpty()) {
            return RegistrationBehaviour.ALLOW;
        }
        String userId = "@" + args.username().get().toLowerCase(Locale.ROOT) + ":" + answers.serverName();
        if (!isValid(MatrixIds::userId, userId)) {
            return RegistrationBehaviour.ALLOW; // no user can have that name: the homeserver refuses it itself
        }
        return banned(CheckRegistrationForSpam.TYPE, Optional.empty(), List.of(user(userId))).isPresent()
                ? answers.registration() : RegistrationBehaviour.ALLOW;
    }

    @Override
    public Boolean checkUsernameForSpam(CheckUsernameForSpam.Args args) {
        return banned(CheckUsernameForSpam.TYPE, Optional.empty(), List.of(user(args.userProfile().userId()))).isPresent();
    }

    /**
     * The sender's server decides, but not against an allow of the sender: the allow list, or a source's
     * exception for the user above or beside its ban of their server, spares their events here as in
     * every other callback.
     */
    @Override
    public Boolean shouldDropFederatedEvent(ShouldDropFederatedEvent.Args args) {
        Optional<String> room = Optional.of(args.event().roomId());
        PolicyIndex current = index; // both questions asked of one update, never of two
        List<Query> sender = user(args.event().sender());
        Optional<PolicyRule> forSender = current.decide(sender,
                position -> slots.get(position).applies(ShouldDropFederatedEvent.TYPE, room));
        if (forSender.isEmpty() || forSender.get().recommendation() == Recommendation.ALLOW) {
            return false; // no rule names the sender or its server (the usual answer, found once), or one spares them
        }
        return banned(current, ShouldDropFederatedEvent.TYPE, room, List.of(sender.subList(1, sender.size()))).isPresent();
    }

    // ---- deciding

    /** Whether an ID put together from a client's text (a requested username, an alias's name) passes its grammar. */
    private static boolean isValid(UnaryOperator<String> grammar, String id) {
        try {
            grammar.apply(id);
            return true;
        } catch (IllegalArgumentException invalid) {
            return false;
        }
    }

    /**
     * A user: the user ID, then its server (with and without a port). Within a source the user's own
     * rule is asked first, so that a source's exception for one user beats its ban of their server.
     * A user of a protected server is banned only by rules naming the user exactly; an allow of their
     * server still spares them.
     */
    private List<Query> user(String userId) {
        return withServer(EntityKind.USER, userId);
    }

    /** An ID's query, then its server's (with and without a port), whose bans are not asked when it is on a protected server. */
    private List<Query> withServer(EntityKind kind, String id) {
        List<String> servers = Servers.of(id);
        boolean isProtected = answers.protects(servers);
        List<Query> queries = new ArrayList<>(4);
        queries.add(new Query(kind, id, isProtected ? Bans.EXACT : Bans.ANY));
        for (String server : servers) {
            queries.add(new Query(EntityKind.SERVER, server, isProtected ? Bans.NONE : Bans.ANY));
        }
        return queries;
    }

    /**
     * A server name, as the explain endpoint asks it: with and without its port, as
     * should_drop_federated_event asks; a protected server's bans apply to none of its users.
     */
    private List<Query> server(String name) {
        List<String> names = Servers.ofName(name);
        Bans bans = answers.protects(names) ? Bans.NONE : Bans.ANY;
        return names.stream().map(server -> new Query(EntityKind.SERVER, server, bans)).toList();
    }

    private List<Query> room(String roomId) {
        return List.of(new Query(EntityKind.ROOM, roomId, answers.isProtected(roomId) ? Bans.EXACT : Bans.ANY));
    }

    /** A room alias: room rules naming it, then its server's rules, as for a user. */
    private List<Query> alias(String alias) {
        return withServer(EntityKind.ROOM, alias);
    }

    @SafeVarargs
    private SpamVerdict refusal(CallbackType<?, ?, ?> callback, Optional<String> room, List<Query>... entities) {
        return banned(callback, room, List.of(entities)).<SpamVerdict>map(this::rejection).orElse(SpamVerdict.NOT_SPAM);
    }

    /**
     * The first entity that its deciding rule bans (see {@link PolicyIndex#decide(List, IntPredicate)}:
     * sources in priority order, then the entity's IDs in order); an allow clears that entity only.
     */
    private Optional<PolicyRule> banned(CallbackType<?, ?, ?> callback, Optional<String> room, List<List<Query>> entities) {
        return banned(index, callback, room, entities);
    }

    /** As {@link #banned(CallbackType, Optional, List)}, of an index the caller has read already. */
    private Optional<PolicyRule> banned(PolicyIndex current, CallbackType<?, ?, ?> callback, Optional<String> room,
            List<List<Query>> entities) {
        IntPredicate applies = position -> slots.get(position).applies(callback, room);
        for (List<Query> entity : entities) {
            if (entity.isEmpty()) {
                continue;
            }
            Optional<PolicyRule> rule = current.decide(entity, applies);
            if (rule.isPresent() && rule.get().recommendation() != Recommendation.ALLOW) {
                if (DryRun.active()) {
                    return rule; // an explanation: what it shows is no refusal to count or log
                }
                metrics.matched(rule.get(), callback);
                // the ID is a client's (an alias's localpart may hold line separators), the rule's a list's: quoted
                log.info("{}: {} refused for {}: {} rule {} ({}) of source '{}'{}{}", answers.instanceName(),
                        callback.name(), LogText.quoted(entity.getFirst().id()), rule.get().kind().wireName(), LogText.quoted(rule.get().entity().describe()),
                        rule.get().recommendation().wireName(), rule.get().origin().source(),
                        rule.get().origin().eventId().map(id -> ", event " + LogText.quoted(id)).orElse(""),
                        rule.get().reason().isEmpty() ? "" : ": " + LogText.quoted(rule.get().reason()));
                return rule;
            }
        }
        return Optional.empty();
    }

    private Rejection rejection(PolicyRule rule) {
        if (!answers.showReason() || rule.reason().isBlank()) {
            return answers.rejection();
        }
        String message = answers.rejection().error().orElse(Rejection.DEFAULT_ERROR) + ": " + shown(rule.reason());
        return new Rejection(answers.rejection().errcode(), Optional.of(message));
    }

    /**
     * A reason as a user sees it: its first {@value #LONGEST_REASON_SHOWN} characters, as
     * {@linkplain Rejection#shownText shown text}. A list's curator writes reasons of any length, and of
     * any characters: a megabyte of one in every refusal would load the homeserver and a client with
     * text no one reads, one too large for the homeserver's module to take would not refuse at all, and
     * a right-to-left override would turn round the rest of the message. The explain endpoint shows the
     * reason whole.
     */
    private static String shown(String reason) {
        return Rejection.shownText(reason, LONGEST_REASON_SHOWN);
    }

    // ---- the management port's view

    @Override
    public List<SourceReport> sources() {
        Map<String, Map<EntityKind, Map<Recommendation, Integer>>> counts = index.counts();
        List<SourceReport> reports = new ArrayList<>();
        for (int position = 0; position < slots.size(); position++) {
            Slot slot = slots.get(position);
            reports.add(new SourceReport(slot.name(), slot.kind(), slot.shownLocation(), counts.getOrDefault(slot.name(), Map.of()),
                    status(position), slot.source().flatMap(PolicySource::upgrade)));
        }
        return reports;
    }

    /**
     * Each source that reads (not the configured allow list) as every module's sources show: its rules
     * in force by kind and recommendation, e.g. {@code user ban: 3}.
     */
    @Override
    public List<ListSource> listSources() {
        List<ListSource> reading = new ArrayList<>();
        for (int position = 1; position < slots.size(); position++) {
            Slot slot = slots.get(position);
            int at = position;
            reading.add(() -> {
                PolicySource.Status status = status(at);
                return new ListSource.Status(slot.name(), slot.kind(), slot.shownLocation(), entries(index, slot.name()),
                        status.lastSuccess(), status.lastError(), status.failures());
            });
        }
        return reading;
    }

    /** A source's rules in an index by kind and recommendation, as its status and log lines show them: {@code user ban: 3}. */
    static Map<String, Long> entries(PolicyIndex index, String source) {
        Map<String, Long> entries = new LinkedHashMap<>();
        index.counts().getOrDefault(source, Map.of()).forEach((kind, byRecommendation) ->
                byRecommendation.forEach((recommendation, count) -> entries.put(
                        (kind.name() + " " + recommendation.name()).toLowerCase(Locale.ROOT), (long) count)));
        return entries;
    }

    @Override
    public Readiness readiness(Instant now) {
        Map<String, String> problems = new LinkedHashMap<>();
        boolean stale = false;
        boolean starting = false;
        for (int position = 1; position < slots.size(); position++) {
            PolicySource.Status status = status(position);
            SlotState state = states.get(position);
            boolean firstReadUnderWay = !state.ownRulesCompiled && state.inherited == null
                    && status.lastError().isEmpty() && status.failures() == 0;
            starting |= firstReadUnderWay;
            Instant since = status.lastSuccess().orElse(started);
            Duration quiet = Duration.between(since, now);
            String error = status.lastError().map(e -> " (" + e + ")").orElse("");
            Optional<Outage.Run> failed = states.get(position).notApplied.run(); // read once: the compiling thread may end it between two reads
            String name = slots.get(position).name();
            if (failed.isPresent()) {
                problems.put(name, failed.get().condition());
                stale = true;
            } else if (firstReadUnderWay) {
                // No reason to be unready until stale-after: a source a reload adds reads on every replica at
                // once, and none would be left in the Service (the gateway's first readiness waits for it, as starting).
                boolean tooLong = quiet.compareTo(freshness.staleAfter()) > 0;
                problems.put(name, tooLong ? "stale: first read under way for " + duration(quiet) : "first read under way");
                stale |= tooLong;
            } else if (status.lastSuccess().isEmpty()) {
                problems.put(name, "no good read yet" + error);
                stale = true;
            } else if (quiet.compareTo(freshness.staleAfter()) > 0) {
                problems.put(name, "stale: no good read for " + duration(quiet) + error);
                stale = true;
            } else if (status.lastError().isPresent()) {
                // shown, but not yet a reason to be unready: the last good rules are recent enough
                problems.put(name, "failing, serving its rules of " + duration(quiet) + " ago" + error);
            }
        }
        return new Readiness(!stale || !freshness.requireFresh(), starting, problems);
    }

    /** {@code 1h2m3s}: a duration to the second, as the health details show it. */
    private static String duration(Duration duration) {
        return duration.truncatedTo(ChronoUnit.SECONDS).toString().substring(2).toLowerCase(Locale.ROOT);
    }

    @Override
    public Explanation explain(String entity) {
        PolicyIndex current = index;
        List<Query> checks = switch (entity.isEmpty() ? ' ' : entity.charAt(0)) {
            case '@' -> user(entity);
            case '!' -> room(entity);
            case '#' -> alias(entity);
            default -> server(entity);
        };
        List<Verdict> verdicts = checks.stream().map(check -> new Verdict(check.kind(), check.id(),
                current.decide(List.of(check), position -> true), current.matching(check.kind(), check.id()))).toList();
        return new Explanation(entity, current.decide(checks, position -> true), verdicts);
    }

    /**
     * Stops the sources and the compiler, then takes out of the scrape the series of the sources that
     * no later instance still open has (the instance's own name stays while a successor serves it).
     * Last, so that no compile of this instance can register a series again after it is removed.
     */
    @Override
    public void close() {
        closed = true;
        slots.forEach(slot -> slot.source().ifPresent(PolicySource::close));
        compiler.close();
        if (successor != null) {
            sourcesStillServed().ifPresent(metrics::retire);
        }
    }

    /**
     * The names of the sources of every instance after this one, along the whole chain of reloads,
     * that is not closed: a series this instance shares with any of them must stay. A chain, not the
     * direct successor only: of three instances reading {a, b}, then {a}, then {a, b}, the first may
     * drain while the third serves {@code b}. Empty when a link of the chain was collected (a closed
     * instance that nothing holds any more): the chain after it is unknown, so nothing is retired.
     */
    private Optional<Set<String>> sourcesStillServed() {
        Set<String> names = new HashSet<>();
        for (Successor link = successor; link != null; ) {
            PolicyList next = link.list().get();
            if (next == null) {
                return Optional.empty();
            }
            if (!next.closed) {
                next.slots.forEach(slot -> names.add(slot.name()));
            }
            link = next.successor;
        }
        return Optional.of(names);
    }
}
