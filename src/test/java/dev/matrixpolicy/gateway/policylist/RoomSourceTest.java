package dev.matrixpolicy.gateway.policylist;

import static dev.matrixpolicy.gateway.policylist.FakeHomeserver.BOT;
import static dev.matrixpolicy.gateway.policylist.FakeHomeserver.TOKEN;
import static dev.matrixpolicy.gateway.policylist.FakeHomeserver.ban;
import static dev.matrixpolicy.gateway.policylist.FakeHomeserver.event;
import static dev.matrixpolicy.gateway.policylist.FakeHomeserver.rule;
import static dev.matrixpolicy.gateway.policylist.FakeHomeserver.withdrawn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.matrixpolicy.gateway.module.Backoff;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Skipped;
import dev.matrixpolicy.gateway.support.MovableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** A policy room read live, against a local server that plays the homeserver's client-server API. */
class RoomSourceTest {
    private static final String ROOM = "!policies:test";
    private static final Duration SOON = Duration.ofSeconds(5);
    /**
     * How soon a close must return where the source would otherwise wait 30 s: far below it, and far
     * above what a loaded machine's scheduling adds to a thread's ending (500 ms was near it).
     */
    private static final Duration PROMPT_CLOSE = Duration.ofSeconds(2);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A long-poll timeout short enough for a removal, noticed after an empty one, to be noticed in a test. */
    private static final Duration SHORT_SYNC = Duration.ofMillis(200);
    private static final RoomSource.Pauses FAST = backoff(Duration.ofMillis(20), Duration.ofMillis(200));

    /**
     * One listener call.
     *
     * @param added   the entities of the rules it adds to the last update's, sorted; null for an update handed over whole
     * @param removed the entities of the last update's rules it takes out, sorted; null for an update handed over whole
     */
    record Update(List<PolicyRule> rules, Map<Skipped, Integer> skipped, List<String> added, List<String> removed) {
        Update(List<PolicyRule> rules, Map<Skipped, Integer> skipped) {
            this(rules, skipped, null, null);
        }

        Update(List<PolicyRule> rules, Map<Skipped, Integer> skipped, RuleChanges changes) {
            this(rules, skipped, entities(changes.added()), entities(changes.removed()));
        }

        List<String> entities() {
            return entities(rules);
        }

        static List<String> entities(Collection<PolicyRule> rules) {
            return rules.stream().map(rule -> rule.entity().value()).sorted().toList();
        }
    }

    private final List<Update> updates = new CopyOnWriteArrayList<>();
    private final PolicySource.Listener listener = new PolicySource.Listener() {
        @Override
        public void updated(PolicySource source, Collection<PolicyRule> rules, Map<Skipped, Integer> skipped) {
            updates.add(new Update(List.copyOf(rules), Map.copyOf(skipped)));
        }

        @Override
        public void changed(PolicySource source, Collection<PolicyRule> rules, RuleChanges changes, Map<Skipped, Integer> skipped) {
            updates.add(new Update(List.copyOf(rules), Map.copyOf(skipped), changes));
        }
    };
    private final Logger sourceLogger = (Logger) LoggerFactory.getLogger(RoomSource.class);
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private FakeHomeserver homeserver;
    private RoomSource source;

    @BeforeEach
    void startHomeserverAndWatchLogs() throws IOException {
        homeserver = new FakeHomeserver();
        // The expected WARN lines go to the test, not the console; the INFO lines the tests assert
        // are on for this logger, whatever level the build logs at (pom.xml).
        logs.start();
        sourceLogger.addAppender(logs);
        sourceLogger.setAdditive(false);
        sourceLogger.setLevel(Level.INFO);
    }

    @AfterEach
    void stop() {
        if (source != null) {
            long closing = System.nanoTime();
            source.close();
            assertThat(Duration.ofNanos(System.nanoTime() - closing)).as("close()").isLessThan(PROMPT_CLOSE);
        }
        homeserver.close();
        sourceLogger.detachAppender(logs);
        sourceLogger.setAdditive(true);
        sourceLogger.setLevel(null);
    }

    /** The module's backoff rule, as the policy_list module hands it in. */
    private static RoomSource.Pauses backoff(Duration initial, Duration max) {
        Backoff backoff = new Backoff(initial, max);
        return attempts -> backoff.delay(attempts, ThreadLocalRandom.current());
    }

    private RoomSource start(String room) {
        return start(room, settings -> settings);
    }

    private RoomSource start(String room, Function<RoomSource.Settings, RoomSource.Settings> adjust) {
        RoomSource.Settings settings = RoomSource.Settings.of("community", homeserver.url(), TOKEN, room, FAST)
                .withRequestTimeout(Duration.ofSeconds(2))
                .withSyncTimeout(Duration.ofSeconds(10));
        source = new RoomSource(adjust.apply(settings));
        source.start(listener);
        return source;
    }

    private Update firstUpdate() {
        await().atMost(SOON).until(() -> !updates.isEmpty());
        return updates.getFirst();
    }

    /**
     * Waits until the source has read the room: the rules handed over, then the tombstone read (after
     * them, see {@code RoomSource.readState}), and the first long-poll open. A test that changes what
     * the homeserver answers waits for this first, or its change may meet the tombstone read.
     */
    private Update firstRead() {
        Update first = firstUpdate();
        awaitLongPoll(1);
        return first;
    }

    private Update awaitUpdates(int count) {
        await().atMost(SOON).until(() -> updates.size() >= count);
        return updates.get(count - 1);
    }

    /** The source's questions whether the bot is in the room. */
    private List<FakeHomeserver.Request> membershipChecks() {
        return homeserver.requests("GET /rooms/" + ROOM + "/state/m.room.member/" + FakeHomeserver.BOT);
    }

    /** Waits until the source long-polls for the {@code n}-th time: it has taken everything sent before. */
    /** Whether the source began a long-poll after the bot's {@code n}th join: it read the room again first. */
    private boolean longPollAfterJoin(int n) {
        int joins = 0;
        for (FakeHomeserver.Request request : homeserver.requests()) {
            if (request.method().equals("POST") && request.path().startsWith("/join/")) {
                joins++;
            } else if (joins == n && request.method().equals("GET") && request.path().startsWith("/sync")
                    && request.query().containsKey("since")) {
                return true;
            }
        }
        return false;
    }

    private void awaitLongPoll(int n) {
        await().atMost(SOON).until(() -> homeserver.longPolls().size() >= n);
    }

    private List<String> lines(Level level) {
        List<ILoggingEvent> events;
        synchronized (logs) {
            events = List.copyOf(logs.list);
        }
        return events.stream().filter(event -> event.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    // ---- reading the room

    @Test
    void firstUpdateHoldsEveryRuleOfTheRoomsStateAndCountsTheRuleEventsItCannotApply() {
        homeserver.room(ROOM)
                .state(ROOM, ban("user", "rule:1", "@spammer:evil.example"))
                .state(ROOM, ban("server", "rule:2", "*.evil.example"))
                .state(ROOM, rule("user", "rule:3", JSON.createObjectNode().put("entity", "@x:test").put("recommendation", "org.example.mute")))
                .state(ROOM, event("m.room.topic", "", JSON.createObjectNode().put("topic", "bans")));

        start(ROOM);

        Update first = firstUpdate();
        assertThat(first.entities()).containsExactly("*.evil.example", "@spammer:evil.example");
        assertThat(first.skipped()).containsExactly(Map.entry(Skipped.UNKNOWN_RECOMMENDATION, 1));
        assertThat(first.rules()).allSatisfy(rule -> {
            assertThat(rule.origin().source()).isEqualTo("community");
            assertThat(rule.origin().eventId()).isPresent();
        });
        await().atMost(SOON).until(() -> source.status().lastSuccess().isPresent());
        assertThat(lines(Level.INFO)).contains("Policy list source 'community' (" + ROOM + ") read: 2 rules");
    }

    /**
     * A member event as anyone joining a public policy room may send it, within Synapse's 64 KiB:
     * content nested 900 deep, a key of 50,001 characters and an integer of 2,000 digits, each beyond
     * one of Jackson's default limits.
     */
    private static ObjectNode hostileJoin(String userId) {
        ObjectNode content = JSON.createObjectNode().put("membership", "join");
        content.put("k".repeat(50_001), true);
        content.put("big", new java.math.BigInteger("9".repeat(2_000)));
        ObjectNode deep = content.putObject("deep");
        for (int level = 0; level < 900; level++) {
            deep = deep.putObject("d");
        }
        return event("m.room.member", userId, content);
    }

    @Test
    void aMemberEventBeyondJacksonsDefaultLimitsNeitherStopsTheFullReadNorTheSyncs() {
        homeserver.room(ROOM)
                .state(ROOM, hostileJoin("@joiner:evil.example"))
                .state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        assertThat(firstRead().entities()).containsExactly("@first:evil.example");

        homeserver.send(ROOM, hostileJoin("@another:evil.example"), ban("user", "rule:2", "@second:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactly("@first:evil.example", "@second:evil.example");
        assertThat(source.status().lastError()).isEmpty();
    }

    @Test
    void aSyncAnswerTooLargeToReadIsNotAskedForAgainButTheRoomIsReadAfresh() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withMaxReplySize(16 * 1024));
        firstRead();

        // a rule whose reason makes the sync that carries it larger than max-size; it is withdrawn since
        ObjectNode huge = rule("user", "rule:2", JSON.createObjectNode().put("entity", "@second:evil.example")
                .put("recommendation", "m.ban").put("reason", "x".repeat(20_000)));
        homeserver.send(ROOM, huge);
        homeserver.state(ROOM, rule("user", "rule:2", JSON.createObjectNode()));
        homeserver.send(ROOM, ban("user", "rule:3", "@third:evil.example"));

        await().atMost(SOON).until(() -> updates.getLast().entities().contains("@third:evil.example"));
        assertThat(updates.getLast().entities()).containsExactly("@first:evil.example", "@third:evil.example");
        assertThat(lines(Level.WARN)).anySatisfy(line -> assertThat(line).contains("reading the room afresh"));
    }

    @Test
    void emptyRoomIsAnUpdateWithNoRules() {
        homeserver.room(ROOM);

        start(ROOM);

        assertThat(firstUpdate().rules()).isEmpty();
    }

    /** The long-poll is answered as the event arrives: the rule does not wait for its 10 s timeout, nor for the next. */
    @Test
    void ruleSentToTheRoomReachesTheListenerLongBeforeTheLongPollWouldEnd() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        long sent = System.nanoTime();
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        await().atMost(SOON).until(() -> updates.size() == 2);
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("half the long-poll's timeout at most").isLessThan(SOON);
        assertThat(updates.get(1).entities()).containsExactly("@first:evil.example", "@second:evil.example");
    }

    @Test
    void aListenerThatFailsEvenWithAnErrorIsHandedTheRulesAgainAtOnceAndTheReadingGoesOn() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        List<Update> taken = new CopyOnWriteArrayList<>();
        source = new RoomSource(RoomSource.Settings.of("community", homeserver.url(), TOKEN, ROOM, FAST)
                .withRequestTimeout(Duration.ofSeconds(2)).withSyncTimeout(Duration.ofSeconds(10)));
        source.start((from, rules, skipped) -> {
            if (taken.isEmpty() && updates.isEmpty()) {
                updates.add(new Update(List.of(), Map.of())); // marks the failed call
                throw new OutOfMemoryError("Java heap space");
            }
            taken.add(new Update(List.copyOf(rules), Map.copyOf(skipped)));
        });
        await().atMost(SOON).until(() -> !taken.isEmpty());
        assertThat(taken.getFirst().entities()).as("handed over again, with no change to wait for").containsExactly("@first:evil.example");
        awaitLongPoll(1);

        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        await().atMost(SOON).until(() -> taken.size() == 2);
        assertThat(taken.getLast().entities()).containsExactly("@first:evil.example", "@second:evil.example");
        assertThat(lines(Level.ERROR)).containsExactly("Policy list source 'community' (" + ROOM + "): the listener failed to take an "
                + "update; handing it over again at each step until it does");
        assertThat(lines(Level.INFO)).contains("Policy list source 'community' (" + ROOM + "): the listener took the rules again");
    }

    @Test
    void eachChangeIsHandedOverAsTheRulesItAddsAndTakesOutAndAFullReadWhole() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        assertThat(firstRead().added()).as("the first read").isNull();

        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"), ban("server", "rule:3", "evil.example"));
        Update added = awaitUpdates(2);
        assertThat(added.added()).containsExactly("@second:evil.example", "evil.example");
        assertThat(added.entities()).containsExactly("@first:evil.example", "@second:evil.example", "evil.example");

        homeserver.send(ROOM, rule("user", "rule:4", JSON.createObjectNode().put("entity", "@x:evil.example").put("recommendation", "org.example.mute")));
        awaitLongPoll(3);
        homeserver.send(ROOM, ban("user", "rule:4", "@fourth:evil.example"));
        assertThat(awaitUpdates(4).added()).as("a slot that held a skipped event held no rule").containsExactly("@fourth:evil.example");

        homeserver.send(ROOM, ban("user", "rule:2", "@replaced:evil.example"));
        Update replaced = awaitUpdates(5);
        assertThat(replaced.added()).as("a replacement").containsExactly("@replaced:evil.example");
        assertThat(replaced.removed()).as("a replacement").containsExactly("@second:evil.example");
        homeserver.send(ROOM, withdrawn("user", "rule:4"), ban("user", "rule:5", "@fifth:evil.example"));
        Update both = awaitUpdates(6);
        assertThat(both.added()).as("a withdrawal beside an addition").containsExactly("@fifth:evil.example");
        assertThat(both.removed()).as("a withdrawal beside an addition").containsExactly("@fourth:evil.example");
        String serverBan = added.rules().stream().filter(rule -> rule.entity().value().equals("evil.example")).findFirst()
                .orElseThrow().origin().eventId().orElseThrow();
        homeserver.redact(ROOM, serverBan, false);
        Update redacted = awaitUpdates(7);
        assertThat(redacted.added()).as("a redaction").isEmpty();
        assertThat(redacted.removed()).as("a redaction").containsExactly("evil.example");
        homeserver.sendWithGap(ROOM, ban("user", "rule:6", "@sixth:evil.example"));
        assertThat(awaitUpdates(8).added()).as("a gap's own events").containsExactly("@sixth:evil.example");
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() == 2);
        homeserver.state(ROOM, ban("user", "rule:8", "@only-in-the-state:evil.example"));
        homeserver.sendWithGap(ROOM);
        assertThat(awaitUpdates(9).added()).as("a full read").isNull();
        homeserver.send(ROOM, ban("user", "rule:7", "@seventh:evil.example"));
        assertThat(awaitUpdates(10).added()).containsExactly("@seventh:evil.example");
        assertThat(updates.getLast().entities()).containsExactlyInAnyOrder("@fifth:evil.example", "@first:evil.example",
                "@replaced:evil.example", "@seventh:evil.example", "@sixth:evil.example", "@only-in-the-state:evil.example");
    }

    @Test
    void rulesAListenerFailedToTakeAsAddedAreHandedOverAgainWholeAndLaterAdditionsAsAdded() {
        homeserver.room(ROOM);
        source = new RoomSource(RoomSource.Settings.of("community", homeserver.url(), TOKEN, ROOM, FAST)
                .withRequestTimeout(Duration.ofSeconds(2)).withSyncTimeout(Duration.ofSeconds(10)));
        source.start(new PolicySource.Listener() {
            private int calls;

            @Override
            public void updated(PolicySource from, Collection<PolicyRule> rules, Map<Skipped, Integer> skipped) {
                listener.updated(from, rules, skipped);
            }

            @Override
            public void changed(PolicySource from, Collection<PolicyRule> rules, RuleChanges changes, Map<Skipped, Integer> skipped) {
                if (++calls == 1) {
                    throw new IllegalStateException("taken by a listener with a bug");
                }
                listener.changed(from, rules, changes, skipped);
            }
        });
        firstRead();

        homeserver.send(ROOM, ban("user", "rule:1", "@first:evil.example"));

        Update again = awaitUpdates(2);
        assertThat(again.added()).isNull();
        assertThat(again.entities()).containsExactly("@first:evil.example");
        awaitLongPoll(2);
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));
        assertThat(awaitUpdates(3).added()).containsExactly("@second:evil.example");
        assertThat(lines(Level.ERROR)).hasSize(1);
    }

    @Test
    void aRuleThatReachedTheStateWithoutAnyEventInASyncIsReadAtTheNextFullRead() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withFullReadEvery(Duration.ofMillis(300)).withSyncTimeout(Duration.ofMillis(100)));
        firstUpdate();

        homeserver.state(ROOM, ban("user", "rule:2", "@second:evil.example")); // as state resolution after a gap may

        assertThat(awaitUpdates(2).entities()).containsExactly("@first:evil.example", "@second:evil.example");
        int fullReads = homeserver.requests("GET /rooms/" + ROOM + "/state").size();
        // read again, then once more: the one thread that reads has handed over, or not, what the first read brought
        await("read again, twice").atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() >= fullReads + 2);
        assertThat(updates).as("an unchanged state is no update").hasSize(2);
    }

    @Test
    void oneSyncAnswerIsOneUpdateWithTheCompleteRules() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"), ban("room", "rule:3", "#spam:evil.example"),
                ban("user", "rule:1", "@replaced:evil.example"));
        awaitLongPoll(2);

        assertThat(updates).hasSize(2);
        assertThat(updates.get(1).entities()).containsExactly("#spam:evil.example", "@replaced:evil.example", "@second:evil.example");
    }

    @Test
    void ruleReplacedWithEmptyContentIsRemoved() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example")).state(ROOM, ban("user", "rule:2", "@second:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.send(ROOM, withdrawn("user", "rule:1"));

        assertThat(awaitUpdates(2).entities()).containsExactly("@second:evil.example");
        assertThat(updates.get(1).skipped()).isEmpty();
    }

    @ParameterizedTest(name = "redacts in the content: {0}")
    @ValueSource(booleans = {false, true})
    void ruleRedactedIsRemovedWithoutReadingTheStateAgain(boolean inContent) {
        ObjectNode first = ban("user", "rule:1", "@first:evil.example");
        homeserver.room(ROOM).state(ROOM, first).state(ROOM, ban("user", "rule:2", "@second:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.redact(ROOM, first.get("event_id").asString(), inContent);

        assertThat(awaitUpdates(2).entities()).containsExactly("@second:evil.example");
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/state")).hasSize(1);
    }

    /**
     * A sync that brings a new ban and a redaction of another rule hands the ban over at once: asking the
     * homeserver whether the redaction took effect (one request a redaction, each up to the request
     * timeout on a slow homeserver) must not hold back the ban that needs no asking.
     */
    @Test
    void aNewBanIsHandedOverBeforeTheHomeserverIsAskedAboutARedactionInTheSameSync() {
        ObjectNode first = ban("user", "rule:1", "@first:evil.example");
        homeserver.room(ROOM).state(ROOM, first);
        start(ROOM, settings -> settings.withRequestTimeout(Duration.ofSeconds(10)));
        firstRead();
        String redacted = first.get("event_id").asString();

        homeserver.holdEventReads();
        homeserver.sendAndRedact(ROOM, redacted, ban("user", "rule:2", "@second:evil.example"));

        await("the redaction asked about").atMost(SOON).until(() -> !homeserver.requests("GET /rooms/" + ROOM + "/event/" + redacted).isEmpty());
        await("the new ban, while the question waits").atMost(Duration.ofSeconds(3))
                .until(() -> updates.getLast().entities().contains("@second:evil.example"));
        assertThat(updates.getLast().entities()).as("the redacted rule stays until the homeserver answers").contains("@first:evil.example");

        homeserver.answerEventReads();
        await("the redaction applied once answered").atMost(SOON)
                .until(() -> updates.getLast().entities().equals(List.of("@second:evil.example")));
    }

    /** A member of a server that lets anyone redact anything cannot lift a ban so: Synapse keeps the event whole. */
    @Test
    void aRedactionTheHomeserverDidNotApplyLeavesTheRuleInForce() {
        String first = readingOneBan();

        homeserver.redactWithoutPower(ROOM, first);
        awaitLongPoll(2);
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@first:evil.example", "@second:evil.example");
        assertThat(lines(Level.INFO)).anyMatch(line -> line.contains("a redaction of \"" + first
                + "\" that the homeserver did not apply is ignored until it does"));

        await("asked again, then no more").atMost(SOON).until(() -> lines(Level.INFO).stream()
                .anyMatch(line -> line.contains("has not applied the redaction of \"" + first + "\" after 5 asks")));
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/event/" + first)).hasSize(UnappliedRedactions.ASKS);
        assertThat(updates).as("the rule stays in force").hasSize(2);
    }

    /**
     * The homeserver fails to say whether a redaction was applied: the rules stay in force until the state, read
     * whole, settles it (a redaction sent without the power to redact must not lift a ban meanwhile), and no
     * redaction is said to be ignored.
     */
    @Test
    void redactionsTheHomeserverCannotAnswerForLiftNoBanBeforeTheStateIsReadAgain() {
        ObjectNode first = ban("user", "rule:1", "@first:evil.example");
        ObjectNode second = ban("user", "rule:2", "@second:evil.example");
        homeserver.room(ROOM).state(ROOM, first).state(ROOM, second);
        start(ROOM);
        firstRead();

        homeserver.failCall("GET /rooms/" + ROOM + "/event/" + second.get("event_id").asString(), 1, 502, "<html>Bad gateway</html>");
        homeserver.redactWithoutPower(ROOM, List.of(first.get("event_id").asString(), second.get("event_id").asString()));

        await("the full state read again").atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() == 2);
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/event/" + first.get("event_id").asString())).hasSize(1);
        assertThat(lines(Level.INFO)).noneMatch(line -> line.contains("did not apply is ignored"));
        assertThat(updates).as("both rules stay in force: no update lifts them, and the state read whole holds them").hasSize(1);
    }

    /**
     * Synapse shows the rule events of a curator erased at deactivation pruned, to a bot that joined after them,
     * though their rules stand in the room's state: a redaction nobody applied must not be taken as applied so.
     */
    @Test
    void aRedactionOfAnErasedCuratorsRuleThatTheHomeserverDidNotApplyLeavesTheRuleInForce() {
        String first = readingOneBan();

        homeserver.serveEventPruned(first);
        homeserver.redactWithoutPower(ROOM, first);
        awaitLongPoll(2);
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@first:evil.example", "@second:evil.example");
        assertThat(updates).as("no update in between lifted the first").hasSize(2);
    }

    /**
     * Redactions the homeserver had not applied are asked about again; a homeserver that cannot answer the
     * first of them (down, or slow up to the request timeout) is not asked the rest in that round, each
     * of which would hold the source from its syncs for another timeout: new bans keep arriving.
     */
    @Test
    void aHomeserverThatCannotAnswerForAWaitingRedactionIsNotAskedTheRestAndNewBansStillArrive() {
        homeserver.room(ROOM);
        List<String> redacted = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            ObjectNode rule = ban("user", "rule:" + i, "@spammer" + i + ":evil.example");
            homeserver.state(ROOM, rule);
            redacted.add(rule.get("event_id").asString());
        }
        // a request timeout of 1 s, far above a local answer's: the four asked again would hold the syncs 4 s
        start(ROOM, settings -> settings.withRequestTimeout(Duration.ofSeconds(1)));
        firstRead();
        // held from the start, not once the first asks are seen: those asked again come at the backoff's pace, 20 ms on
        homeserver.holdEventReadsAskedAgain();
        homeserver.redactWithoutPower(ROOM, redacted);
        ToIntFunction<String> asks = id -> homeserver.requests("GET /rooms/" + ROOM + "/event/" + id).size();
        await("each asked once").atMost(SOON).until(() -> redacted.stream().allMatch(id -> asks.applyAsInt(id) >= 1));

        await("one asked again").atMost(SOON).until(() -> redacted.stream().anyMatch(id -> asks.applyAsInt(id) >= 2));
        homeserver.send(ROOM, ban("user", "rule:new", "@new:evil.example"));

        await("the new ban, after one timeout rather than one a waiting redaction").atMost(SOON)
                .until(() -> updates.getLast().entities().contains("@new:evil.example"));
        assertThat(redacted).as("one asked again and unanswered; the rest not asked again meanwhile")
                .filteredOn(id -> asks.applyAsInt(id) > 1).hasSize(1);
        homeserver.answerEventReads();
        assertThat(updates.getLast().entities()).as("the redactions were not applied: the rules stay")
                .contains("@spammer1:evil.example", "@spammer4:evil.example");
    }

    /** Synapse's workers can answer from a cache a moment behind the sync that carried the redaction. */
    @Test
    void aRedactionTheHomeserverAppliesAMomentLateWithdrawsTheRuleThen() {
        ObjectNode first = ban("user", "rule:1", "@first:evil.example");
        homeserver.room(ROOM).state(ROOM, first).state(ROOM, ban("user", "rule:2", "@second:evil.example"));
        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofSeconds(1), Duration.ofSeconds(2))));
        firstRead();

        homeserver.redactWithoutPower(ROOM, first.get("event_id").asString());
        await().atMost(Duration.ofSeconds(10)).until(() -> !homeserver.requests("GET /rooms/" + ROOM + "/event/" + first.get("event_id").asString()).isEmpty());
        homeserver.applyRedactionLate(ROOM, first.get("event_id").asString());

        assertThat(awaitUpdates(2).entities()).as("withdrawn at the next ask, a second on, not at the hourly read")
                .containsExactly("@second:evil.example");
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/state")).hasSize(1);
    }

    @Test
    void redactedRuleEventThatCouldNotBeAppliedIsNoLongerCounted() {
        ObjectNode unknown = rule("user", "rule:1", JSON.createObjectNode().put("entity", "@x:test").put("recommendation", "org.example.mute"));
        homeserver.room(ROOM).state(ROOM, unknown);
        start(ROOM);
        assertThat(firstRead().skipped()).containsExactly(Map.entry(Skipped.UNKNOWN_RECOMMENDATION, 1));

        homeserver.redact(ROOM, unknown.get("event_id").asString(), false);

        assertThat(awaitUpdates(2).skipped()).isEmpty();
    }

    @Test
    void redactionOfAnEventThatHoldsNoRuleIsNoUpdate() {
        ObjectNode topic = event("m.room.topic", "", JSON.createObjectNode().put("topic", "bans"));
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example")).state(ROOM, topic);
        start(ROOM);
        firstRead();

        homeserver.redact(ROOM, topic.get("event_id").asString(), false);
        homeserver.redact(ROOM, "$not-in-the-state", false);
        awaitLongPoll(3);

        assertThat(updates).hasSize(1);
    }

    @Test
    void ruleReplacedWithAnUnknownRecommendationIsRemovedAndCountedAsSkipped() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.send(ROOM, rule("user", "rule:1", JSON.createObjectNode().put("entity", "@first:evil.example").put("recommendation", "org.example.mute")));

        Update second = awaitUpdates(2);
        assertThat(second.rules()).isEmpty();
        assertThat(second.skipped()).containsExactly(Map.entry(Skipped.UNKNOWN_RECOMMENDATION, 1));
    }

    @Test
    void syncWithoutRuleChangesIsNoUpdate() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.send(ROOM, event("m.room.topic", "", JSON.createObjectNode().put("topic", "still bans")));
        awaitLongPoll(2);

        assertThat(updates).hasSize(1);
    }

    @Test
    void gapsOneAfterTheOtherReadTheStateAtTheBackoffsPaceAndApplyTheirEventsMeanwhile() throws Exception {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:0", "@first:evil.example"));
        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofMillis(500), Duration.ofSeconds(1))));
        firstRead();

        for (int i = 1; i <= 15; i++) { // a second and a half of a burst, each sync flagged limited
            homeserver.sendWithGap(ROOM, ban("user", "rule:" + i, "@burst" + i + ":evil.example"));
            Thread.sleep(100);
        }

        await().atMost(SOON).until(() -> updates.getLast().entities().contains("@burst15:evil.example"));
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/state")).as("the first read, then one a pause of 0.5, 1, 1 s")
                .hasSizeBetween(2, 5);
        assertThat(lines(Level.WARN)).anyMatch(line -> line.contains("reports gaps in the room's timeline one after the other"));
    }

    @Test
    void aHomeserverThatFlagsEveryAnswerAsAGapStillGetsTheFullStateReadAtTheBackoffsPace() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:0", "@first:evil.example"));
        start(ROOM, settings -> settings.withSyncTimeout(Duration.ofMillis(150))
                .withBackoff(backoff(Duration.ofMillis(500), Duration.ofSeconds(1))));
        firstRead();

        // each long-poll ends at its timeout (cut to when the next full read is due) with a gap
        homeserver.gapInEveryAnswer(ROOM);
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() >= 2);
        // a change that reached the state in a gap, and that no sync carries
        homeserver.state(ROOM, ban("user", "rule:gapped", "@gapped:evil.example"));

        await().atMost(SOON).until(() -> updates.getLast().entities().contains("@gapped:evil.example"));
        int reads = homeserver.requests("GET /rooms/" + ROOM + "/state").size();
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() > reads);
        assertThat(lines(Level.WARN)).singleElement().asString().contains("reports gaps in the room's timeline one after the other");
    }

    @Test
    void aHomeserverWhoseTokenNeverAdvancesAndThatReplaysTheSameEventsAtOnceIsNotAskedInATightLoop() {
        homeserver.room(ROOM);
        start(ROOM);
        firstRead();
        homeserver.send(ROOM, ban("user", "rule:1", "@spammer:evil.example"));
        awaitUpdates(2);

        homeserver.replayLastBatch();
        int before = homeserver.longPolls().size();
        long replayed = System.nanoTime();
        // four long-polls, each answered at once with nothing new: the first may start at once, each next one is spaced
        await().atMost(SOON).until(() -> homeserver.longPolls().size() >= before + 4);

        assertThat(Duration.ofNanos(System.nanoTime() - replayed)).as("four long-polls take three spacings at least")
                .isGreaterThanOrEqualTo(RoomSource.IDLE_SYNC_SPACING.multipliedBy(3));
        assertThat(updates).hasSize(2);
    }

    @Test
    void gapInTheTimelineReadsTheFullStateAgain() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.sendWithGap(ROOM, ban("user", "rule:2", "@in-the-gap:evil.example"), withdrawn("user", "rule:1"),
                ban("server", "rule:3", "evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@in-the-gap:evil.example", "evil.example");
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() == 2);
        homeserver.send(ROOM, ban("user", "rule:4", "@after:evil.example"));
        assertThat(awaitUpdates(3).entities()).as("the full read found what the gap's events said: no update of its own")
                .containsExactlyInAnyOrder("@in-the-gap:evil.example", "evil.example", "@after:evil.example");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"[]", "[1, \"x\", null, {\"type\": \"m.policy.rule.user\", \"state_key\": \"rule:1\", \"content\": \"nope\"}]"})
    void aFullReadThatIsNoRoomsStateKeepsTheRulesInForce(String garbage) {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.garbleState(garbage);
        homeserver.sendWithGap(ROOM, ban("user", "rule:2", "@in-the-gap:evil.example"));

        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() >= 2);
        assertThat(awaitUpdates(2).entities()).as("the gap's own events applied; nothing withdrawn")
                .containsExactlyInAnyOrder("@first:evil.example", "@in-the-gap:evil.example");
        await().atMost(SOON).until(() -> lines(Level.WARN).stream().anyMatch(line -> line.contains("no m.room.create event")));
        assertThat(updates).hasSize(2);

        homeserver.garbleState(null);
        homeserver.sendWithGap(ROOM, ban("user", "rule:3", "@later:evil.example"));
        assertThat(awaitUpdates(3).entities()).contains("@first:evil.example", "@later:evil.example");
    }

    @Test
    void aSyncAnswerWithAStringLongerThanAnyEventCanHoldSaysSoRatherThanNotJson() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.failNext(1, 200, "{\"next_batch\": \"" + "a".repeat(70_000) + "\"}");

        await().atMost(SOON).until(() -> lines(Level.WARN).stream().anyMatch(line -> line.contains(
                "GET /sync is unusable: a string, name or number longer than 65536 bytes, or nesting deeper, which no event has")));
        assertThat(updates).hasSize(1);
    }

    @Test
    void aRuleEventWhoseContentIsNoObjectWithdrawsNothing() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        ObjectNode garbled = ban("user", "rule:1", "@first:evil.example");
        garbled.putArray("content").add("@first:evil.example");
        homeserver.send(ROOM, garbled);
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@first:evil.example", "@second:evil.example");
    }

    /**
     * Synapse (1.157) looks back some thousand events for ones the filter keeps and, finding none,
     * leaves the room out of the answer with no gap flagged: a rule sent before a member raid, while
     * the source waited to retry a failed sync, would not arrive until the hourly full read.
     */
    @Test
    void anAnswerWithoutTheRoomToAStaleTokenReadsTheFullStateAgain() {
        MovableClock clock = new MovableClock(Instant.parse("2026-12-03T12:00:00Z"));
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withClock(clock));
        firstRead();
        int fullReads = homeserver.requests("GET /rooms/" + ROOM + "/state").size();

        // sent, then buried under events the filter leaves out, while the source waits to retry
        homeserver.state(ROOM, ban("user", "rule:2", "@buried:evil.example"));
        clock.advance(RoomSource.STALE_TOKEN.plusSeconds(1));
        homeserver.failNext(1, 502, "<html>Bad Gateway</html>");

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@first:evil.example", "@buried:evil.example");
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/state")).hasSize(fullReads + 1);
    }

    @Test
    void anAnswerWithoutTheRoomToAFreshTokenReadsNothingAgain() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withSyncTimeout(Duration.ofMillis(100)));
        firstUpdate();
        awaitLongPoll(5); // long-polls that time out with nothing, each from the last one's token

        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/state")).hasSize(1);
    }

    @Test
    void whileReadingTheWholeStateAgainFailsNewRulesStillArriveThroughTheSyncs() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();
        homeserver.failStateReads(true);

        homeserver.sendWithGap(ROOM, ban("user", "rule:2", "@in-the-gap:evil.example"));
        assertThat(awaitUpdates(2).entities()).as("the gap's own events, applied at once")
                .containsExactlyInAnyOrder("@first:evil.example", "@in-the-gap:evil.example");
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() >= 2);
        homeserver.send(ROOM, ban("user", "rule:3", "@after-the-gap:evil.example"));

        assertThat(awaitUpdates(3).entities()).containsExactlyInAnyOrder("@first:evil.example", "@in-the-gap:evil.example",
                "@after-the-gap:evil.example");
        assertThat(source.status().lastError()).isEmpty();
        assertThat(source.status().failures()).isPositive();
        assertThat(lines(Level.WARN)).singleElement().asString()
                .contains("reading the room's whole state again failed: the homeserver fails (")
                .contains("502")
                .contains("following its new events meanwhile");

        // a change no sync reports, which only the full read, once it works again, can find
        homeserver.state(ROOM, withdrawn("user", "rule:1"));
        homeserver.failStateReads(false);
        assertThat(awaitUpdates(4).entities()).containsExactlyInAnyOrder("@in-the-gap:evil.example", "@after-the-gap:evil.example");
    }

    @Test
    void backInTheSameRoomAfterAGarbledSyncNewRulesStillArriveWhileItsWholeStateCannotBeRead() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();
        homeserver.failStateReads(true);

        homeserver.failNext(1, 200, "<html>not JSON</html>"); // the long-poll in flight: the source starts afresh
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() >= 2);
        homeserver.send(ROOM, ban("user", "rule:2", "@after:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@first:evil.example", "@after:evil.example");
        assertThat(lines(Level.WARN)).anyMatch(line -> line.contains("following its new events meanwhile"));
        // what the room sent between the two sessions is only in its state: the source shows it still fails
        assertThat(source.status().lastError().orElseThrow()).contains("GET /rooms/{room}/state").contains("502");

        homeserver.failStateReads(false);
        await().atMost(SOON).until(() -> source.status().lastError().isEmpty());
    }

    @Test
    void aSyncAnswerWithMoreRuleEventsThanTheTimelineLimitIsReadAsAGap() {
        homeserver.room(ROOM);
        start(ROOM);
        firstRead();
        ObjectNode[] flood = new ObjectNode[SyncFilter.TIMELINE_LIMIT + 50];
        for (int i = 0; i < flood.length; i++) {
            flood[i] = ban("user", "rule:" + i, "@spammer" + i + ":evil.example");
        }

        homeserver.send(ROOM, flood); // a homeserver that ignores the filter's limit, and reports no gap

        assertThat(awaitUpdates(2).rules()).hasSize(flood.length);
        assertThat(homeserver.requests("GET /rooms/" + ROOM + "/state")).as("the state read afresh").hasSize(2);
    }

    @Test
    void longPollsAskForTheRoomsRuleEventsOnlyThroughAStoredFilter() {
        homeserver.room(ROOM);
        start(ROOM);
        firstRead();

        JsonNode filter = JSON.readTree(homeserver.requests("POST", "/user/" + BOT + "/filter").getFirst().body());
        assertThat(filter.path("room").path("rooms").values()).extracting(JsonNode::asString).containsExactly(ROOM);
        assertThat(filter.path("room").path("state").path("types").values()).extracting(JsonNode::asString)
                .containsExactlyInAnyOrderElementsOf(EntityKind.eventTypes());
        assertThat(filter.path("room").path("timeline").path("types").values()).extracting(JsonNode::asString)
                .contains("m.policy.rule.user", "org.matrix.mjolnir.rule.server", "m.room.rule.room", "m.room.redaction",
                        "m.room.tombstone")
                .as("a join raid must not wake the bot nor fill its timeline").doesNotContain("m.room.member");
        assertThat(filter.path("presence").path("not_types").values()).extracting(JsonNode::asString).containsExactly("*");
        assertThat(filter.path("account_data").path("not_types").values()).extracting(JsonNode::asString).containsExactly("*");
        assertThat(filter.path("room").path("ephemeral").path("not_types").values()).extracting(JsonNode::asString).containsExactly("*");
        FakeHomeserver.Request longPoll = homeserver.longPolls().getFirst();
        assertThat(longPoll.query()).containsEntry("filter", "7").containsEntry("timeout", "10000").containsEntry("set_presence", "offline");
        // The first sync only takes a token: every event type is left out.
        FakeHomeserver.Request first = homeserver.requests("GET", "/sync").getFirst();
        assertThat(JSON.readTree(first.query().get("filter")).path("room").path("state").path("not_types").values())
                .extracting(JsonNode::asString).containsExactly("*");
    }

    @Test
    void firstSyncTokenIsTakenBeforeTheStateIsRead() {
        homeserver.room(ROOM);
        start(ROOM);
        firstUpdate();

        List<String> calls = homeserver.requests().stream().map(FakeHomeserver.Request::call).toList();
        assertThat(calls).containsSubsequence("GET /account/whoami", "POST /user/" + BOT + "/filter", "GET /sync",
                "GET /rooms/" + ROOM + "/state");
    }

    @Test
    void roomWithAHundredThousandRulesIsReadAsAStream() {
        homeserver.hugeRoom(ROOM, 100_000);

        start(ROOM, settings -> settings.withRequestTimeout(Duration.ofSeconds(30)));

        await().atMost(Duration.ofSeconds(60)).until(() -> !updates.isEmpty());
        assertThat(updates.getFirst().rules()).hasSize(100_000);
    }

    // ---- joining

    @Test
    void aliasIsResolvedAndTheBotJoinsTheRoomItIsNotIn() {
        homeserver.roomToJoin(ROOM, "#policies:test", true).state(ROOM, ban("user", "rule:1", "@spammer:evil.example"));

        start("#policies:test");

        assertThat(firstUpdate().entities()).containsExactly("@spammer:evil.example");
        assertThat(homeserver.requests("GET", "/directory/room/#policies:test")).hasSize(1);
        assertThat(homeserver.requests("POST", "/join/")).singleElement().extracting(FakeHomeserver.Request::path)
                .isEqualTo("/join/#policies:test");
        assertThat(lines(Level.INFO)).contains("Policy list source 'community' (#policies:test): the bot " + BOT + " joined the room");
    }

    @Test
    void aRoomGivenByItsIdIsJoinedByWayOfTheServerItNames() {
        homeserver.roomToJoin(ROOM, "#policies:test", true).state(ROOM, ban("user", "rule:1", "@spammer:evil.example"));

        start(ROOM);

        assertThat(firstUpdate().entities()).containsExactly("@spammer:evil.example");
        assertThat(homeserver.requests("POST", "/join/")).singleElement()
                .satisfies(join -> assertThat(join.query()).containsEntry("via", "test").containsEntry("server_name", "test"));
    }

    @Test
    void anUpgradeOfTheRoomIsReportedOnceAndTheRoomStillRead() {
        ObjectNode tombstone = event("m.room.tombstone", "", JSON.createObjectNode()
                .put("body", "This room has been replaced").put("replacement_room", "!new:test")
                .put("org.matrix.msc4321.policy_room_upgrade_type", "move"));
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();
        assertThat(source.upgrade()).isEmpty();

        homeserver.send(ROOM, tombstone);
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactly("@first:evil.example", "@second:evil.example");
        RoomUpgrade upgrade = source.upgrade().orElseThrow();
        assertThat(upgrade.room()).isEqualTo(ROOM);
        assertThat(upgrade.replacementRoom()).isEqualTo("!new:test");
        assertThat(upgrade.upgradeType()).contains("move");
        assertThat(upgrade.sender()).contains("@mod:test");

        // A gap makes the source read the full state, where it finds the same tombstone: the same upgrade, not news.
        int fullReads = homeserver.requests("GET /rooms/" + ROOM + "/state").size();
        homeserver.sendWithGap(ROOM, ban("user", "rule:3", "@third:evil.example"));
        awaitUpdates(3);
        await("read again").atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + ROOM + "/state").size() > fullReads);
        assertThat(source.upgrade()).contains(upgrade);
        assertThat(lines(Level.WARN)).singleElement().asString()
                .contains("room " + ROOM + " was upgraded by @mod:test: the list's curators moved its rules to !new:test")
                .contains("this source goes on reading " + ROOM + ", whose rules stay in force");
    }

    @Test
    void anUpgradeInTheStateAtTheFirstReadIsReportedAndARedactedOneIsNoLonger() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example")).state(ROOM, event("m.room.tombstone", "",
                JSON.createObjectNode().put("replacement_room", "!new:test")).put("event_id", "$tombstone"));
        start(ROOM);

        assertThat(firstRead().entities()).containsExactly("@first:evil.example");
        assertThat(source.upgrade()).hasValueSatisfying(upgrade -> {
            assertThat(upgrade.replacementRoom()).isEqualTo("!new:test");
            assertThat(upgrade.upgradeType()).isEmpty();
        });

        homeserver.redact(ROOM, "$tombstone", false); // a homeserver refuses a tombstone without a replacement room

        await().atMost(Duration.ofSeconds(5)).until(() -> source.upgrade().isEmpty());
        assertThat(lines(Level.INFO)).contains("Policy list source 'community' (" + ROOM + "): room " + ROOM
                + " no longer announces an upgrade to !new:test");
    }

    @Test
    void aRedactionIsHandedOverEvenWhenTheTombstoneReadItPromptsFails() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example").put("event_id", "$rule1"))
                .state(ROOM, event("m.room.tombstone", "", JSON.createObjectNode().put("replacement_room", "!new:test")));
        start(ROOM);
        firstRead();
        homeserver.failTombstoneReads();

        homeserver.redact(ROOM, "$rule1", false); // with an upgrade known, a redaction makes the source read the tombstone again

        assertThat(awaitUpdates(2).rules()).isEmpty();
        awaitLongPoll(2); // the tombstone is read after the rules are handed over
        assertThat(lines(Level.WARN)).anySatisfy(line -> assertThat(line).contains("GET /rooms/{room}/state/m.room.tombstone answered 500"));
    }

    @Test
    void aTombstoneThatCannotBeReadKeepsNoRuleWaiting() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        homeserver.failTombstoneReads();

        start(ROOM);

        assertThat(firstRead().entities()).containsExactly("@first:evil.example");
        assertThat(source.upgrade()).isEmpty();
        assertThat(lines(Level.WARN)).singleElement().asString().contains("reading the tombstone of room " + ROOM + " failed")
                .contains("GET /rooms/{room}/state/m.room.tombstone answered 500");
    }

    @Test
    void botAlreadyInTheRoomDoesNotJoinAgain() {
        homeserver.room(ROOM);

        start(ROOM);

        firstUpdate();
        assertThat(homeserver.requests("POST", "/join/")).isEmpty();
    }

    @Test
    void botThatMayNotJoinTheRoomSaysSo() {
        homeserver.roomToJoin(ROOM, "#policies:test", false);

        start("#policies:test");

        // the source records the failure, then logs it
        await().atMost(SOON).until(() -> !lines(Level.WARN).isEmpty());
        assertThat(source.status().lastError().orElseThrow())
                .startsWith("the bot " + BOT + " is not in room #policies:test and may not join it")
                .contains("403 M_FORBIDDEN: You are not invited to this room.");
        assertThat(lines(Level.WARN)).singleElement().asString().contains("may not join it").contains("no rules read yet");
        assertThat(updates).isEmpty();
    }

    private static final String UPGRADED = "!upgraded:test";

    /** A source reads ROOM, which holds one ban of @first:evil.example, and waits on its first long-poll; the ban's event ID. */
    private String readingOneBan() {
        ObjectNode first = ban("user", "rule:1", "@first:evil.example");
        homeserver.room(ROOM).state(ROOM, first);
        start(ROOM);
        firstRead();
        return first.get("event_id").asString();
    }

    /** A source named by alias reads ROOM's rules, and then the alias names {@code replacement}, whose rules differ. */
    private void readingRoomWhoseAliasThenMovesTo(String replacement) {
        homeserver.roomToJoin(ROOM, "#policies:test", true).state(ROOM, ban("user", "rule:1", "@old-room:evil.example"));
        homeserver.roomToJoin(replacement, "#new:test", true).state(replacement, ban("user", "rule:1", "@new-room:evil.example"));
        start("#policies:test", settings -> settings.withSyncTimeout(SHORT_SYNC));
        assertThat(firstRead().entities()).containsExactly("@old-room:evil.example");
        homeserver.moveAlias("#policies:test", replacement);
    }

    @Test
    void aSourceNamedByAliasKeepsItsRoomThroughAPassingFailureAndFollowsTheAliasOnceRemoved() {
        readingRoomWhoseAliasThenMovesTo(UPGRADED);
        homeserver.failNext(1, 400, "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Bad request\"}");
        await().atMost(SOON).until(() -> homeserver.requests("GET /account/whoami").size() == 2);
        int longPolls = homeserver.longPolls().size();
        await().atMost(SOON).until(() -> homeserver.longPolls().size() > longPolls);
        assertThat(homeserver.requests("GET", "/directory/room/")).as("the alias resolved at the start only").hasSize(1);
        assertThat(updates).hasSize(1);

        homeserver.kick(ROOM);
        assertThat(awaitUpdates(2).entities()).containsExactly("@new-room:evil.example");
        assertThat(lines(Level.WARN)).anySatisfy(line -> assertThat(line).contains("the alias now names room " + UPGRADED));
    }

    @Test
    void aRoomTheAliasNowNamesIsNotFollowedOnTopOfTheOldRoomsRulesBeforeItsStateIsRead() {
        readingRoomWhoseAliasThenMovesTo(UPGRADED);
        homeserver.failStateReads(true);
        homeserver.kick(ROOM); // removed: the source follows the alias, to a room whose state cannot be read
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + UPGRADED + "/state").size() >= 1);
        homeserver.failNext(1, 403, "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"no\"}"); // and it starts afresh there
        await().atMost(SOON).until(() -> homeserver.requests("GET /account/whoami").size() >= 3);
        homeserver.send(UPGRADED, ban("user", "rule:2", "@new-event:evil.example"));
        int reads = homeserver.requests("GET /rooms/" + UPGRADED + "/state").size();
        await().atMost(SOON).until(() -> homeserver.requests("GET /rooms/" + UPGRADED + "/state").size() > reads + 1);

        assertThat(updates).as("no event of the new room applied to the old room's rules").singleElement()
                .extracting(Update::entities).asList().containsExactly("@old-room:evil.example");

        homeserver.failStateReads(false);
        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@new-room:evil.example", "@new-event:evil.example");
    }

    /** A proxy's bare 403 is no homeserver's word that the bot left its room: the alias is not followed. */
    @Test
    void aSourceNamedByAliasKeepsItsRoomThroughAProxysBareRefusal() {
        readingRoomWhoseAliasThenMovesTo(UPGRADED);
        String member = "GET /rooms/" + ROOM + "/state/m.room.member/" + FakeHomeserver.BOT;
        homeserver.failCall(member, 2, 403, "<html>Forbidden</html>"); // the check after an empty long-poll, then the reconnect's

        await().atMost(SOON).until(() -> homeserver.requests(member).size() >= 3);
        int longPolls = homeserver.longPolls().size();
        await().atMost(SOON).until(() -> homeserver.longPolls().size() > longPolls);

        assertThat(homeserver.requests("GET", "/directory/room/")).as("the alias resolved at the start only").hasSize(1);
        assertThat(updates).as("the old room's rules, not the room the alias names now").singleElement()
                .extracting(Update::entities).asList().containsExactly("@old-room:evil.example");
    }

    @Test
    void aSourceNamedByAliasThatMayNotJoinItsRoomAgainFollowsTheAlias() {
        readingRoomWhoseAliasThenMovesTo(UPGRADED);
        homeserver.ban(ROOM);
        homeserver.failNext(1, 400, "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Bad request\"}");

        assertThat(awaitUpdates(2).entities()).containsExactly("@new-room:evil.example");
    }

    @Test
    void unknownAliasSaysSo() {
        start("#nowhere:test");

        await().atMost(SOON).until(() -> source.status().lastError().isPresent());
        assertThat(source.status().lastError().orElseThrow()).startsWith("room alias #nowhere:test does not exist").contains("404 M_NOT_FOUND");
    }

    @Test
    void botRemovedFromTheRoomNoticesItWithinASyncTimeoutJoinsAgainAndKeepsReading() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withSyncTimeout(SHORT_SYNC));
        firstRead();

        homeserver.kick(ROOM);
        await().atMost(SOON).until(() -> homeserver.requests("POST", "/join/").size() == 1);
        assertThat(membershipChecks()).as("asked at connect, then once a long-poll came back empty, then at the reconnect")
                .hasSizeGreaterThanOrEqualTo(3);
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));

        await().atMost(SOON).until(() -> updates.getLast().rules().size() == 2);
        assertThat(updates).noneMatch(update -> update.rules().isEmpty());
        assertThat(lines(Level.WARN)).singleElement().asString().contains("is no longer in room " + ROOM);
    }

    @Test
    void aRemovalReportedWithTheRoomsLastEventsIsNoticedAtOnce() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.kickAfter(ROOM, ban("user", "rule:2", "@second:evil.example"));

        await().atMost(SOON).until(() -> homeserver.requests("POST", "/join/").size() == 1);
        await().atMost(SOON).until(() -> updates.getLast().rules().size() == 2);
        assertThat(membershipChecks()).as("only at each connect").hasSize(2);
    }

    @Test
    void theRulesSentJustBeforeTheBotWasBannedStillApplyAndAreKept() {
        rulesSentJustBeforeABanApply(rule -> homeserver.banAfter(ROOM, rule));
    }

    @Test
    void theRulesSentJustBeforeABanThatTheMembershipShowsBeforeASyncDoesStillApply() {
        rulesSentJustBeforeABanApply(rule -> homeserver.banAfterAtNextMembershipCheck(ROOM, rule));
    }

    /** A second rule sent just before {@code banAfter} bans the bot is applied and kept; the source then cannot rejoin. */
    private void rulesSentJustBeforeABanApply(Consumer<ObjectNode> banAfter) {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withSyncTimeout(SHORT_SYNC));
        firstRead();

        banAfter.accept(ban("user", "rule:2", "@second:evil.example"));

        assertThat(awaitUpdates(2).entities()).containsExactlyInAnyOrder("@first:evil.example", "@second:evil.example");
        // First "no longer in room", once the sync shows the ban; then the rejoin's refusal.
        await().atMost(SOON).untilAsserted(() -> assertThat(source.status().lastError()).hasValueSatisfying(
                error -> assertThat(error).contains("may not join it")));
        assertThat(updates).hasSize(2);
    }


    @Test
    void botKickedAgainAtEveryJoinBacksOffAndWarnsOnceUntilALongPollCompletes() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        List<Integer> pausesAsked = new CopyOnWriteArrayList<>();
        // Long enough for each kick below to land while the long-poll after the rejoin still waits: one that
        // completed first would be a good read, ending the failures (the pauses would start again at 1).
        // Each kick is seen once that long-poll ends, so the test takes four of them.
        start(ROOM, settings -> settings.withSyncTimeout(Duration.ofMillis(500)).withBackoff(attempts -> {
            pausesAsked.add(attempts);
            return Duration.ofMillis(20);
        }));
        firstRead();

        // A moderator (or a protection bot) kicks the bot each time it rejoins.
        for (int kicks = 1; kicks <= 4; kicks++) {
            homeserver.kick(ROOM);
            int joins = kicks;
            await().atMost(SOON).until(() -> homeserver.requests("POST", "/join/").size() == joins);
            // not a long-poll begun before the join (one the sync timeout ended meanwhile): the next kick
            // must come once the rejoined bot read the room, or its read fails otherwise ("not in room")
            await().atMost(SOON).until(() -> longPollAfterJoin(joins));
        }
        // The same failure four times in a row: the pauses grow, and it is news once.
        assertThat(pausesAsked).containsExactly(1, 2, 3, 4);
        assertThat(lines(Level.WARN)).singleElement().asString().contains("is no longer in room " + ROOM);
        // Not while it failed: until the last rejoin. The long-poll after it may end before this looks.
        List<String> info = lines(Level.INFO);
        int lastJoin = IntStream.range(0, info.size()).filter(i -> info.get(i).contains("joined the room")).max()
                .orElseThrow();
        assertThat(info.subList(0, lastJoin + 1)).noneMatch(line -> line.contains("reads again"));

        // Left alone, the bot's next long-poll completes: only that ends the failures.
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));
        await().atMost(SOON).until(() -> updates.getLast().rules().size() == 2);
        await().atMost(SOON).until(() -> lines(Level.INFO).stream().anyMatch(line -> line.contains("reads again")));
        assertThat(lines(Level.INFO)).filteredOn(line -> line.contains("reads again")).singleElement().asString()
                .contains("after 4 failed attempt(s)");
        assertThat(source.status().lastError()).isEmpty();
    }

    @Test
    void botKickedAtEveryJoinOnAHomeserverThatAnswersLongPollsAtOnceStillBacksOffAndNeverSaysItReadsAgain() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        List<Integer> pausesAsked = new CopyOnWriteArrayList<>();
        start(ROOM, settings -> settings.withSyncTimeout(Duration.ofMillis(400)).withBackoff(attempts -> {
            pausesAsked.add(attempts);
            return Duration.ofMillis(20);
        }));
        firstRead();

        // its long-polls complete before each removal shows: only a membership asked, or the room's events, show it reads
        homeserver.kickAtEveryJoinAndAnswerLongPollsAtOnce();
        await().atMost(SOON).until(() -> pausesAsked.size() >= 4);

        assertThat(pausesAsked).startsWith(1, 2, 3, 4);
        assertThat(lines(Level.INFO)).noneMatch(line -> line.contains("reads again"));
        assertThat(lines(Level.WARN)).singleElement().asString().contains("is no longer in room " + ROOM);
    }

    // ---- failures

    @Test
    void homeserverDownKeepsTheLastGoodRulesWarnsOnceAndSaysWhenItRecovers() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.failAll(502, "<html>Bad Gateway</html>");
        await().atMost(SOON).until(() -> source.status().failures() >= 5);

        assertThat(updates).hasSize(1);
        assertThat(source.status().lastError()).hasValue("the homeserver fails (GET /sync answered 502)");
        assertThat(source.status().errorSince()).isPresent();
        assertThat(lines(Level.WARN)).singleElement().asString()
                .startsWith("Policy list source 'community' (" + ROOM + ") could not be read, keeping its last good rules (1 rule): "
                        + "the homeserver fails (GET /sync answered 502); retrying in ");

        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));
        homeserver.recover();

        assertThat(awaitUpdates(2).entities()).containsExactly("@first:evil.example", "@second:evil.example");
        await().atMost(SOON).until(() -> source.status().lastError().isEmpty());
        assertThat(source.status().errorSince()).isEmpty();
        assertThat(source.status().failures()).isGreaterThanOrEqualTo(5);
        // the source records the good read, then says that it reads again
        await().atMost(SOON).until(() -> lines(Level.INFO).stream().anyMatch(line -> line.contains("reads again")));
        assertThat(lines(Level.WARN)).hasSize(1);
        assertThat(lines(Level.INFO)).last().asString().startsWith("Policy list source 'community' (" + ROOM + ") reads again, after ");
        assertThat(updates).noneMatch(update -> update.rules().isEmpty());
    }

    @Test
    void aFailureWhoseErrorTextChangesAtEachAttemptIsStillOneWarning() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        for (int attempt = 1; attempt <= 4; attempt++) {
            long failures = source.status().failures();
            homeserver.failNext(1, 502, "{\"errcode\":\"M_UNKNOWN\",\"error\":\"upstream " + attempt + " at " + System.nanoTime() + "\"}");
            await().atMost(SOON).until(() -> source.status().failures() > failures);
        }

        assertThat(lines(Level.WARN)).singleElement().asString().contains("GET /sync answered 502 M_UNKNOWN: upstream 1 at ");
    }

    @Test
    void homeserverUnreachableAtStartupIsRetriedUntilItAnswers() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        homeserver.failNext(3, 503, "{\"errcode\":\"M_UNKNOWN\",\"error\":\"starting\"}");

        start(ROOM);

        assertThat(firstUpdate().entities()).containsExactly("@first:evil.example");
        assertThat(source.status().failures()).isEqualTo(3);
        assertThat(lines(Level.WARN)).singleElement().asString()
                .startsWith("Policy list source 'community' (" + ROOM + ") could not be read, no rules read yet: "
                        + "the homeserver fails (GET /account/whoami answered 503 M_UNKNOWN: starting); retrying in ");
    }

    @Test
    void homeserverThatDoesNotListenIsUnreachable() throws IOException {
        URI nobody;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = URI.create("http://127.0.0.1:" + closed.getLocalPort());
        }
        source = new RoomSource(RoomSource.Settings.of("community", nobody, TOKEN, ROOM, FAST));
        source.start(listener);

        await().atMost(SOON).until(() -> source.status().failures() >= 3);
        // the JDK's client says ConnectException alone, whatever the reason: its causes say which
        assertThat(source.status().lastError().orElseThrow())
                .isEqualTo("cannot reach the homeserver (GET /account/whoami: ConnectException <- ClosedChannelException)");
        assertThat(lines(Level.WARN)).hasSize(1);
    }

    @Test
    void rejectedTokenIsReportedAsSuchAndRetriedOnlyAtTheLongestPause() {
        homeserver.room(ROOM);
        homeserver.revokeToken();

        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofMillis(10), Duration.ofMillis(400))));

        await().atMost(SOON).until(() -> homeserver.requests("GET", "/account/whoami").size() >= 3);
        assertThat(source.status().lastError().orElseThrow())
                .isEqualTo("the homeserver rejects the access token, which is wrong, has expired or was revoked, or whose account is locked "
                        + "(GET /account/whoami answered 401 M_UNKNOWN_TOKEN: Invalid access token passed.)");
        assertThat(lines(Level.WARN)).singleElement().asString().contains("access token").doesNotContain(TOKEN);
        // From the first retry on, the longest pause (200 to 400 ms with jitter), not the first (5 to 10 ms).
        List<FakeHomeserver.Request> attempts = homeserver.requests("GET", "/account/whoami");
        for (int i = 1; i < attempts.size(); i++) {
            assertThat(Duration.between(attempts.get(i - 1).at(), attempts.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(195));
        }

        homeserver.recover();
        assertThat(firstUpdate().rules()).isEmpty();
    }

    @Test
    void tokenRevokedWhileReadingKeepsTheRules() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withSyncTimeout(Duration.ofMillis(100)));
        firstRead();

        homeserver.revokeToken();

        // the source records the failure, then logs it
        await().atMost(SOON).until(() -> !lines(Level.WARN).isEmpty());
        assertThat(source.status().lastError().orElseThrow()).contains("access token").contains("401 M_UNKNOWN_TOKEN");
        assertThat(lines(Level.WARN)).singleElement().asString().contains("keeping its last good rules (1 rule)");
        assertThat(updates).hasSize(1);
    }

    @Test
    void rateLimitedCallWaitsWhatTheHomeserverAsks() {
        homeserver.room(ROOM);
        homeserver.failNext(1, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too Many Requests\",\"retry_after_ms\":150}");

        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofMillis(1), Duration.ofSeconds(1))));

        firstUpdate();
        List<FakeHomeserver.Request> calls = homeserver.requests();
        assertThat(Duration.between(calls.get(0).at(), calls.get(1).at())).isGreaterThanOrEqualTo(Duration.ofMillis(145));
        assertThat(lines(Level.WARN)).singleElement().asString()
                .contains("the homeserver rate-limits the bot (GET /account/whoami answered 429 M_LIMIT_EXCEEDED: Too Many Requests)")
                .endsWith("retrying in 150ms");
    }

    @Test
    void aRateLimitAskingForAFarLongerWaitIsLoggedAgainWhileTheSameOneIsNot() {
        homeserver.room(ROOM);
        String limited = "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too Many Requests\",\"retry_after_ms\":%d}";
        homeserver.failAll(429, limited.formatted(20));
        // the backoff's longest pause under the 300 ms asked later, so that the wait logged is the one asked
        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofMillis(1), Duration.ofMillis(100))));
        await().atMost(SOON).until(() -> homeserver.requests().size() >= 8); // the backoff past the 20 ms asked: no news

        homeserver.failAll(429, limited.formatted(300));
        await().atMost(SOON).until(() -> lines(Level.WARN).size() >= 2);
        homeserver.recover();

        firstUpdate();
        assertThat(lines(Level.WARN)).hasSize(2).satisfiesExactly(
                first -> assertThat(first).endsWith("retrying in 20ms"),
                longer -> assertThat(longer).endsWith("retrying in 300ms"));
    }

    @Test
    void aRateLimitOfYearsIsWaitedOnlyUpToTenMinutes() {
        homeserver.room(ROOM);
        homeserver.failNext(1, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":9000000000000000}");

        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofMillis(1), Duration.ofSeconds(1))));

        await().atMost(SOON).until(() -> !lines(Level.WARN).isEmpty());
        assertThat(lines(Level.WARN)).singleElement().asString().endsWith("retrying in 600s");
    }

    @Test
    void malformedSyncAnswerKeepsTheRulesAndTheRoomIsReadAfreshFromANewToken() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM);
        firstRead();

        homeserver.failNext(1, 200, "{\"next_batch\": ");
        homeserver.send(ROOM, ban("user", "rule:2", "@second:evil.example"));
        awaitUpdates(2);
        homeserver.send(ROOM, ban("user", "rule:3", "@third:evil.example"));

        assertThat(awaitUpdates(3).rules()).hasSize(3);
        assertThat(lines(Level.WARN)).singleElement().asString()
                .contains("the homeserver's answer to GET /sync is unusable: not JSON; reading the room afresh");
    }

    @Test
    void syncAnswerOverMaxSizeFailsClearlyWarnsOnceKeepsTheLastGoodRulesAndFollowsTheRoomsNewEvents() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withMaxReplySize(4096));
        firstRead();

        ObjectNode longReason = JSON.createObjectNode().put("entity", "@second:evil.example").put("recommendation", "m.ban")
                .put("reason", "spam ".repeat(2000));
        homeserver.send(ROOM, rule("user", "rule:2", longReason));
        // the sync that carries it is not asked for again: the room is read afresh, and its state is too large too
        String stateTooLarge = "the homeserver's answer to GET /rooms/{room}/state is unusable: reply larger than max-size 4KB";
        await().atMost(SOON).until(() -> lines(Level.WARN).size() >= 2);
        assertThat(updates).hasSize(1);
        assertThat(lines(Level.WARN).getFirst())
                .startsWith("Policy list source 'community' (" + ROOM + ") could not be read, keeping its last good rules (1 rule): "
                        + "the homeserver's answer to GET /sync is unusable: reply larger than max-size 4KB; reading the room afresh; retrying in ");
        assertThat(lines(Level.WARN).getLast()).contains(stateTooLarge).contains("following its new events meanwhile");
        assertThat(source.status().lastError()).hasValue(stateTooLarge);

        // back in the same room, it still applies what the room sends next
        homeserver.send(ROOM, ban("user", "rule:3", "@third:evil.example"));
        assertThat(awaitUpdates(2).entities()).containsExactly("@first:evil.example", "@third:evil.example");
        assertThat(lines(Level.WARN)).hasSize(2);
    }

    @Test
    void syncsThatWouldGrowTheRulesPastMaxSizeKeepTheRulesInForceAndReportTheListTooLarge() {
        homeserver.room(ROOM).state(ROOM, ban("user", "rule:1", "@first:evil.example"));
        start(ROOM, settings -> settings.withMaxReplySize(4096));
        firstRead();

        // each sync well within max-size, together more rules than a full read of 4KB could hold
        for (int batch = 0; batch < 4; batch++) {
            ObjectNode[] rules = new ObjectNode[4];
            for (int i = 0; i < rules.length; i++) {
                String key = "rule:" + (2 + batch * rules.length + i);
                rules[i] = rule("user", key, JSON.createObjectNode().put("entity", "@" + key.replace(':', '-') + ":evil.example")
                        .put("recommendation", "m.ban").put("reason", "spam ".repeat(60)));
            }
            homeserver.send(ROOM, rules);
        }

        String stateTooLarge = "the homeserver's answer to GET /rooms/{room}/state is unusable: reply larger than max-size 4KB";
        await().atMost(SOON).until(() -> source.status().lastError().isPresent());
        assertThat(source.status().lastError()).hasValue(stateTooLarge);
        assertThat(updates.getLast().entities()).contains("@first:evil.example").hasSizeLessThan(17);
        assertThat(lines(Level.WARN)).singleElement().asString().contains(stateTooLarge).contains("following its new events meanwhile");

        // a withdrawal still applies
        homeserver.send(ROOM, rule("user", "rule:1", JSON.createObjectNode()));
        await().atMost(SOON).until(() -> !updates.getLast().entities().contains("@first:evil.example"));
    }

    @Test
    void bodyThatStopsComingIsATimeout() {
        homeserver.room(ROOM);
        homeserver.stallBodies();

        start(ROOM, settings -> settings.withRequestTimeout(Duration.ofMillis(300)));

        await().atMost(SOON).until(() -> source.status().lastError().isPresent());
        assertThat(source.status().lastError()).hasValue("the homeserver's answer to GET /account/whoami stopped coming for 300ms");
        homeserver.recover();
        firstUpdate();
    }

    // ---- lifecycle

    @Test
    void listenerThatFailsDoesNotStopTheSource() {
        homeserver.room(ROOM);
        source = new RoomSource(RoomSource.Settings.of("community", homeserver.url(), TOKEN, ROOM, FAST));
        source.start((from, rules, skipped) -> {
            updates.add(new Update(List.copyOf(rules), Map.copyOf(skipped)));
            throw new IllegalStateException("listener bug");
        });
        firstRead();

        homeserver.send(ROOM, ban("user", "rule:1", "@first:evil.example"));

        await().atMost(SOON).until(() -> updates.getLast().rules().size() == 1);
        assertThat(lines(Level.ERROR)).as("once a run of failures").hasSize(1)
                .allSatisfy(line -> assertThat(line).contains("the listener failed"));
    }

    @Test
    void closeDuringALongPollReturnsAtOnce() {
        homeserver.room(ROOM);
        start(ROOM, settings -> settings.withSyncTimeout(Duration.ofSeconds(30)));
        firstRead();

        long closing = System.nanoTime();
        source.close();

        assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(PROMPT_CLOSE);
        assertThat(lines(Level.WARN)).isEmpty();
        int requests = homeserver.requests().size();
        await().during(Duration.ofMillis(300)).atMost(SOON).until(() -> homeserver.requests().size() == requests);
    }

    @Test
    void closeWhileWaitingToRetryReturnsAtOnce() {
        homeserver.failAll(502, "");
        start(ROOM, settings -> settings.withBackoff(backoff(Duration.ofSeconds(30), Duration.ofSeconds(30))));
        await().atMost(SOON).until(() -> source.status().failures() == 1);

        long closing = System.nanoTime();
        source.close();

        assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(PROMPT_CLOSE);
    }

    @Test
    void statusSaysStartingUntilTheFirstRead() {
        homeserver.failAll(502, "");
        source = new RoomSource(RoomSource.Settings.of("community", homeserver.url(), TOKEN, ROOM, FAST));

        assertThat(source.status()).isEqualTo(PolicySource.Status.STARTING);
        assertThat(source.name()).isEqualTo("community");
    }

    // ---- settings

    @Test
    void settingsRefuseWhatCannotWorkNamingTheSetting() {
        URI homeserverUrl = URI.create("https://matrix.example.org");
        assertThatIllegalArgumentException().isThrownBy(() -> RoomSource.Settings.of("c", URI.create("ftp://x"), TOKEN, ROOM, FAST))
                .withMessageStartingWith("homeserver ");
        assertThatIllegalArgumentException().isThrownBy(() -> RoomSource.Settings.of("c", homeserverUrl, " ", ROOM, FAST))
                .withMessageStartingWith("accessToken ");
        assertThatIllegalArgumentException().isThrownBy(() -> RoomSource.Settings.of("c", homeserverUrl, TOKEN, "policies", FAST))
                .withMessageStartingWith("room ");
        assertThatIllegalArgumentException().isThrownBy(() -> RoomSource.Settings.of("c", homeserverUrl, TOKEN, "#policies", FAST))
                .withMessageStartingWith("room ");
        assertThatIllegalArgumentException().isThrownBy(() -> RoomSource.Settings.of("c", homeserverUrl, TOKEN, ROOM, FAST).withRequestTimeout(Duration.ZERO))
                .withMessageStartingWith("requestTimeout ");
        assertThatIllegalArgumentException().isThrownBy(() -> RoomSource.Settings.of("c", homeserverUrl, TOKEN, ROOM, FAST).withSyncTimeout(Duration.ZERO))
                .withMessageStartingWith("syncTimeout ");
    }

    @Test
    void settingsNeverShowTheAccessToken() {
        RoomSource.Settings settings = RoomSource.Settings.of("c", URI.create("https://matrix.example.org"), TOKEN, ROOM, FAST);

        assertThat(settings.toString()).doesNotContain(TOKEN).contains("https://matrix.example.org", ROOM);
        assertThat(new RoomSource(settings).toString()).doesNotContain(TOKEN);
    }

    @Test
    void defaultsAreTenSecondRequestsAndThirtySecondLongPolls() {
        RoomSource.Settings settings = RoomSource.Settings.of("c", URI.create("https://matrix.example.org"), TOKEN, ROOM, FAST);

        assertThat(settings.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.syncTimeout()).isEqualTo(Duration.ofSeconds(30));
    }
}
